package dev.atelier.context.repository;

import dev.atelier.context.model.ArtifactVersion;

/**
 * A version found by its idempotency key, with the hash of the request that wrote it.
 *
 * @param requestSha256 hex SHA-256 of the canonical write request
 * @param idempotencyKey the key that wrote it
 */
public record StoredWrite(ArtifactVersion version, String requestSha256, String idempotencyKey) {}
