package dev.atelier.context.model;

import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/**
 * A step-attempt lease ({@link StepClaim}) to release together with a batch write: the attempt's
 * outputs are stored and its lease ends in one transaction.
 */
public record StepRelease(
    @Schema(description = "The attempt's key, as claimed")
        @NotNull
        @Pattern(regexp = StepClaim.KEY_PATTERN, message = "must be 1-200 of A-Z a-z 0-9 . _ : -")
        String key,
    @Schema(description = "The holder that claimed it")
        @NotNull
        @Pattern(
            regexp = StepClaim.HOLDER_PATTERN,
            message = "must be 1-200 printable ASCII characters")
        String holder) {}
