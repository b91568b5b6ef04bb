package dev.atelier.worker.client;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * The body of context-service's batch write: artifacts stored together, each under the key {@code
 * <Idempotency-Key>:<name>}, and the step-attempt lease released in the same transaction.
 */
public record BatchWrite(
    List<NewArtifact> artifacts, @JsonInclude(JsonInclude.Include.NON_NULL) Release release) {

  /** A lease ({@link BatchRead.Claim}) to release once the artifacts are stored. */
  public record Release(String key, String holder) {}

  /** Its answer: one entry per artifact, in the order sent. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record Result(List<Written> writes) {}

  /** One stored artifact; {@code created} is false when its key had already written it. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record Written(ArtifactView version, boolean created) {}
}
