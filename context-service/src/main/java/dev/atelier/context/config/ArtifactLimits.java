package dev.atelier.context.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** Explicit limits on what a write may store (DESIGN: limits are explicit, their breach a 4xx). */
@ConfigMapping(prefix = "context.artifacts")
public interface ArtifactLimits {

  /**
   * Largest content accepted, in bytes of its serialized form (see {@code
   * ArtifactVersion#sizeBytes}); larger writes get 413.
   */
  @WithDefault("1048576")
  int maxContentBytes();

  /** Longest {@code Idempotency-Key} accepted, in characters. */
  @WithDefault("255")
  int maxIdempotencyKeyLength();
}
