package dev.atelier.worker.client;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import dev.atelier.contracts.ArtifactRef;
import java.util.List;
import java.util.Map;

/**
 * The body of context-service's batch read: the versions to read and the idempotency keys whose
 * writes to look up.
 */
public record BatchRead(List<ArtifactRef> refs, List<String> idempotencyKeys) {

  /**
   * Its answer.
   *
   * @param artifacts the versions asked for, in the order asked
   * @param written the version each key wrote; keys that wrote nothing are absent
   */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record Result(List<ArtifactView> artifacts, Map<String, ArtifactView> written) {}
}
