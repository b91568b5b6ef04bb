package dev.atelier.orchestrator.service;

import jakarta.validation.constraints.DecimalMin;
import jakarta.validation.constraints.Digits;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Size;
import java.math.BigDecimal;
import java.util.Map;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/**
 * A request to run a workflow on a requirement.
 *
 * @param requirement what the team wants built; at most 64 KiB of UTF-8
 * @param title short name; defaults to the requirement's first line
 * @param definition workflow definition name; defaults to {@code software-delivery}
 * @param team the submitting team; defaults to {@code default}
 * @param budgetUsd what the workflow may spend on LLM calls
 * @param metadata free-form labels passed to every step
 */
@Schema(name = "SubmitWorkflow")
public record SubmitWorkflow(
    @NotBlank @Schema(required = true, maxLength = 65536) String requirement,
    @Size(max = 200) String title,
    @Pattern(regexp = "[a-z][a-z0-9-]{0,62}") String definition,
    @Pattern(regexp = "[A-Za-z0-9][A-Za-z0-9._-]{0,63}") String team,
    @DecimalMin("0") @Digits(integer = 12, fraction = 6) BigDecimal budgetUsd,
    Map<String, String> metadata) {}
