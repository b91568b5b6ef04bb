package dev.atelier.context.model;

import dev.atelier.contracts.ArtifactRef;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Size;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/**
 * The body of a batch read: everything a step needs from context-service before it runs, in one
 * request.
 *
 * @param refs the versions to read with their content, each {@code name@version}
 * @param idempotencyKeys keys whose earlier writes to return, if they wrote anything (a worker asks
 *     whether this attempt already stored its output)
 * @param claim a step-attempt lease to take first, or null (see {@link StepClaim})
 */
public record ArtifactReads(
    @Schema(description = "name@version of each version to read") @Size(max = MAX_ITEMS)
        List<@NotNull @Pattern(regexp = REF_PATTERN, message = "must be name@version") String> refs,
    @Schema(description = "Idempotency-Keys whose writes to return, if any") @Size(max = MAX_ITEMS)
        List<@NotBlank @Pattern(regexp = Producer.WHOLE, message = Producer.HALF_PAIR) String>
            idempotencyKeys,
    @Schema(description = "A lease on the step attempt to take before reading (optional)") @Valid
        StepClaim claim) {

  /** At most this many refs, and this many keys, per request. */
  public static final int MAX_ITEMS = 50;

  /** An artifact name as {@link NewArtifact#NAME_PATTERN}, {@code @}, a version from 1. */
  public static final String REF_PATTERN = "^[a-z0-9][a-z0-9._-]{0,99}@[1-9][0-9]{0,8}$";

  /** The refs, parsed; call after validation. */
  public List<ArtifactRef> refsOrEmpty() {
    return refs == null ? List.of() : refs.stream().map(ArtifactRef::parse).toList();
  }

  public List<String> keysOrEmpty() {
    return idempotencyKeys == null ? List.of() : idempotencyKeys;
  }
}
