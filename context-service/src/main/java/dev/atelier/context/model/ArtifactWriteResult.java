package dev.atelier.context.model;

import java.util.List;

/**
 * The answer to a batch write, one entry per artifact in the order of the request.
 *
 * @param writes each stored version without its content (the writer has it; sha256 identifies it),
 *     and whether this request created it (false: a replay of its key)
 */
public record ArtifactWriteResult(List<Written> writes) {

  /** One artifact of the batch as stored. */
  public record Written(ArtifactSummary version, boolean created) {}

  /** Whether any artifact was written by this request rather than replayed. */
  public boolean anyCreated() {
    return writes.stream().anyMatch(Written::created);
  }
}
