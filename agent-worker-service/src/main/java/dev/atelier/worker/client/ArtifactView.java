package dev.atelier.worker.client;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.JsonNode;
import dev.atelier.contracts.ArtifactRef;
import java.util.UUID;

/**
 * One artifact version as context-service returns it. Listings leave {@code content} out.
 *
 * @param content a JSON object or array for JSON artifacts, a string otherwise
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record ArtifactView(
    UUID workflowId,
    String name,
    int version,
    ArtifactRef ref,
    String kind,
    String mediaType,
    JsonNode content,
    Producer producer) {

  /** The ref, built from name and version when the body carries none. */
  public ArtifactRef artifactRef() {
    return ref != null ? ref : new ArtifactRef(name, version);
  }
}
