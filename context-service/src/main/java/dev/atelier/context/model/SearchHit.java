package dev.atelier.context.model;

import dev.atelier.contracts.ArtifactRef;
import java.time.Instant;
import java.util.UUID;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/**
 * One artifact matching a full-text search: its latest version, how well it matches and where.
 *
 * @param rank PostgreSQL {@code ts_rank}; higher is better, comparable within one search only
 * @param snippet fragments of the text around the matches, matched words between {@code <b>} and
 *     {@code </b>}
 */
public record SearchHit(
    UUID workflowId,
    String name,
    int version,
    @Schema(implementation = String.class, description = "name@version", examples = "analysis@2")
        ArtifactRef ref,
    ArtifactKind kind,
    double rank,
    String snippet,
    Instant createdAt) {}
