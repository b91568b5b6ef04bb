package dev.atelier.context.model;

import dev.atelier.contracts.ArtifactRef;
import java.time.Instant;
import java.util.UUID;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** An artifact version's metadata, as listed; the content is fetched by its ref. */
public record ArtifactSummary(
    UUID workflowId,
    String name,
    int version,
    @Schema(implementation = String.class, description = "name@version", examples = "analysis@2")
        ArtifactRef ref,
    ArtifactKind kind,
    String mediaType,
    Producer producer,
    int sizeBytes,
    String sha256,
    Instant createdAt) {}
