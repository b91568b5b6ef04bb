package dev.atelier.worker.client;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.List;

/**
 * The body of context-service's batch write: artifacts stored together, each under the key {@code
 * <Idempotency-Key>:<name>}.
 */
public record BatchWrite(List<NewArtifact> artifacts) {

  /** Its answer: one entry per artifact, in the order sent. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record Result(List<Written> writes) {}

  /** One stored artifact; {@code created} is false when its key had already written it. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record Written(ArtifactView version, boolean created) {}
}
