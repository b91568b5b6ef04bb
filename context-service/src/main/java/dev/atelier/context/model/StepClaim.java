package dev.atelier.context.model;

import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/**
 * A lease on one step attempt: granted when nobody else holds it, or the holder asks again (which
 * renews it), or the earlier holder's lease ran out.
 *
 * @param key the attempt, e.g. {@code <stepId>:<attempt>}
 * @param holder who asks: the same string renews, another one waits
 * @param leaseSeconds how long the lease lasts unless renewed
 */
public record StepClaim(
    @Schema(description = "The attempt claimed, e.g. <stepId>:<attempt>", example = "7f3c...:1")
        @NotNull
        @Pattern(regexp = KEY_PATTERN, message = "must be 1-200 of A-Z a-z 0-9 . _ : -")
        String key,
    @Schema(description = "Who claims it; the same holder renews, another one is refused")
        @NotNull
        @Pattern(regexp = HOLDER_PATTERN, message = "must be 1-200 printable ASCII characters")
        String holder,
    @Schema(description = "Seconds the lease lasts unless renewed", minimum = "1", maximum = "600")
        @Min(1)
        @Max(600)
        int leaseSeconds) {

  public static final String KEY_PATTERN = "^[A-Za-z0-9._:-]{1,200}$";
  public static final String HOLDER_PATTERN = "^[\\x21-\\x7e]{1,200}$";
}
