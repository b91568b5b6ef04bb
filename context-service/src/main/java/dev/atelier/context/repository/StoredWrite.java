package dev.atelier.context.repository;

import dev.atelier.context.model.ArtifactVersion;

/**
 * A version found by its idempotency key, with the hash of the request that wrote it.
 *
 * @param requestSha256 hex SHA-256 of the canonical write request
 */
public record StoredWrite(ArtifactVersion version, String requestSha256) {}
