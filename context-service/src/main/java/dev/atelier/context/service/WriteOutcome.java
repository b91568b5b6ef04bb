package dev.atelier.context.service;

import dev.atelier.context.model.ArtifactVersion;

/**
 * The result of a write.
 *
 * @param created false when the idempotency key had already written this version (a replay)
 */
public record WriteOutcome(ArtifactVersion version, boolean created) {}
