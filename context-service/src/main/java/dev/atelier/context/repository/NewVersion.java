package dev.atelier.context.repository;

import dev.atelier.context.model.ArtifactKind;
import dev.atelier.context.model.Producer;
import java.util.UUID;

/**
 * A version ready to insert: validated, numbered and hashed.
 *
 * @param contentJson the content as JSON text (a JSON string for markdown and text)
 */
public record NewVersion(
    UUID workflowId,
    String name,
    int version,
    ArtifactKind kind,
    String mediaType,
    String contentJson,
    Producer producer,
    int sizeBytes,
    String sha256,
    String idempotencyKey,
    String requestSha256) {}
