package dev.atelier.orchestrator.model;

import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import java.time.Duration;
import java.util.List;

/**
 * How a step's failed attempts are retried. Absent fields take the defaults.
 *
 * @param maxAttempts attempts per round, the first included
 * @param initialBackoff wait before the second attempt
 * @param multiplier growth of the wait per further attempt
 * @param maxBackoff cap of the wait
 * @param jitter fraction (0..1) by which each wait is randomly shortened or lengthened, so retries
 *     of many workflows do not arrive together
 * @param nonRetryableErrors error codes that fail the step at once, whatever the worker says
 */
public record RetryPolicy(
    Integer maxAttempts,
    @JsonSerialize(using = DurationText.Serializer.class)
        @JsonDeserialize(using = DurationText.Deserializer.class)
        Duration initialBackoff,
    Double multiplier,
    @JsonSerialize(using = DurationText.Serializer.class)
        @JsonDeserialize(using = DurationText.Deserializer.class)
        Duration maxBackoff,
    Double jitter,
    List<String> nonRetryableErrors) {

  public static final RetryPolicy DEFAULT = new RetryPolicy(null, null, null, null, null, null);

  public RetryPolicy {
    maxAttempts = maxAttempts == null ? 3 : maxAttempts;
    initialBackoff = initialBackoff == null ? Duration.ofSeconds(2) : initialBackoff;
    multiplier = multiplier == null ? 2.0 : multiplier;
    maxBackoff = maxBackoff == null ? Duration.ofMinutes(1) : maxBackoff;
    jitter = jitter == null ? 0.2 : jitter;
    nonRetryableErrors = nonRetryableErrors == null ? List.of() : List.copyOf(nonRetryableErrors);
  }

  /**
   * The wait after the {@code failedTries}-th failed attempt of a round: {@code initialBackoff *
   * multiplier^(failedTries-1)}, capped, then jittered by {@code random} in [0, 1).
   */
  public Duration backoff(int failedTries, double random) {
    double base = initialBackoff.toMillis() * Math.pow(multiplier, Math.max(0, failedTries - 1));
    double capped = Math.min(base, maxBackoff.toMillis());
    double jittered = capped * (1 + jitter * (2 * random - 1));
    return Duration.ofMillis(Math.max(0, Math.round(jittered)));
  }
}
