package dev.atelier.context.model;

import jakarta.validation.Valid;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Size;
import java.util.List;
import java.util.UUID;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/**
 * Leases to renew, all in one request: what one worker replica holds. A lease is renewed only while
 * its holder has it; one released, or taken by another since it ran out, is not renewed (nor
 * created again).
 *
 * @param leaseSeconds how long each lease lasts from now
 */
public record StepRenewals(
    @Schema(description = "Seconds each lease lasts from now", minimum = "1", maximum = "600")
        @Min(1)
        @Max(600)
        int leaseSeconds,
    @Schema(description = "The leases, each with its workflow") @NotNull @Size(max = MAX_ITEMS)
        List<@NotNull @Valid Lease> leases) {

  /** At most this many leases per request. */
  public static final int MAX_ITEMS = 1000;

  /** One lease: its workflow, key and holder. */
  public record Lease(
      @NotNull UUID workflowId,
      @NotNull
          @jakarta.validation.constraints.Pattern(
              regexp = StepClaim.KEY_PATTERN,
              message = "must be 1-200 of A-Z a-z 0-9 . _ : -")
          String key,
      @NotNull
          @jakarta.validation.constraints.Pattern(
              regexp = StepClaim.HOLDER_PATTERN,
              message = "must be 1-200 printable ASCII characters")
          String holder) {}

  /**
   * The answer: the leases not renewed, as sent; the rest were.
   *
   * @param lost released, or taken by another holder since they ran out
   */
  public record Result(List<Lease> lost) {}
}
