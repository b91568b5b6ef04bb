package dev.atelier.context.model;

import jakarta.validation.Valid;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Size;
import java.util.List;

/**
 * The body of a batch write: new versions of several artifacts, stored together or not at all.
 *
 * @param artifacts each as the body of a single write; names must differ
 */
public record ArtifactWrites(
    @NotNull @Size(min = 1, max = MAX_ITEMS) List<@NotNull @Valid NewArtifact> artifacts) {

  /** At most this many artifacts per request. */
  public static final int MAX_ITEMS = 10;
}
