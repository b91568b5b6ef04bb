package dev.atelier.context.model;

import com.fasterxml.jackson.databind.JsonNode;
import dev.atelier.contracts.ArtifactRef;
import java.time.Instant;
import java.util.UUID;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/**
 * One stored, immutable version of an artifact, with its content.
 *
 * @param ref {@code name@version}, the form step messages carry
 * @param sizeBytes size of the content: UTF-8 bytes of the string for markdown and text, of the
 *     canonical JSON (compact, object keys sorted) for json
 * @param sha256 hex SHA-256 of the same bytes
 */
public record ArtifactVersion(
    UUID workflowId,
    String name,
    int version,
    @Schema(implementation = String.class, description = "name@version", examples = "analysis@2")
        ArtifactRef ref,
    ArtifactKind kind,
    String mediaType,
    @Schema(
            description = "object or array for kind json, string for markdown and text",
            implementation = Object.class)
        JsonNode content,
    Producer producer,
    int sizeBytes,
    String sha256,
    Instant createdAt) {

  /** The same version without its content. */
  public ArtifactSummary summary() {
    return new ArtifactSummary(
        workflowId, name, version, ref, kind, mediaType, producer, sizeBytes, sha256, createdAt);
  }
}
