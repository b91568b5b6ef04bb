package dev.atelier.context.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;

/** Explicit limits on what a write may store (DESIGN: limits are explicit, their breach a 4xx). */
@ConfigMapping(prefix = "context.artifacts")
public interface ArtifactLimits {

  /**
   * Largest content accepted, in bytes of its serialized form (see {@code
   * ArtifactVersion#sizeBytes}); larger writes get 413.
   */
  @WithDefault("1048576")
  int maxContentBytes();

  /**
   * Most content one batch read returns, in bytes ({@code sizeBytes} summed over the versions
   * read); more is a 413 and nothing is sent. The answer is built in memory whole.
   */
  @WithDefault("8388608")
  long maxReadBytes();

  /**
   * Longest a search may run in the database (whole seconds, at least one); past it the query is
   * cancelled and the answer is a 503 {@code query-timeout}. A search across every workflow reads
   * and ranks every artifact that matches, on a pooled connection the step path shares.
   */
  @WithDefault("10s")
  Duration searchTimeout();

  /** Longest {@code Idempotency-Key} accepted, in characters. */
  @WithDefault("255")
  int maxIdempotencyKeyLength();
}
