package dev.atelier.context.model;

import jakarta.validation.Valid;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Size;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/**
 * The body of a batch write: new versions of several artifacts, stored together or not at all.
 *
 * @param artifacts each as the body of a single write; names must differ
 * @param release a step-attempt lease to release in the same transaction, or null: no part of the
 *     idempotent request (a replay releases it again, which does nothing)
 */
public record ArtifactWrites(
    @NotNull @Size(min = 1, max = MAX_ITEMS) List<@NotNull @Valid NewArtifact> artifacts,
    @Schema(description = "A step-attempt lease to release once these are stored (optional)") @Valid
        StepRelease release) {

  /** At most this many artifacts per request. */
  public static final int MAX_ITEMS = 10;
}
