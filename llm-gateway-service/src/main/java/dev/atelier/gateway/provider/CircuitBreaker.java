package dev.atelier.gateway.provider;

import java.time.Duration;
import java.time.Instant;

/**
 * The circuit breaker of one deployment (provider + model). It keeps the outcomes of the last
 * {@code windowSize} calls; once at least {@code minimumCalls} are kept and the failure ratio
 * reaches the threshold, it opens for {@code openDuration}, then lets exactly one half-open probe
 * through: success closes it, failure opens it again. A 429 also starts a cooldown until its {@code
 * Retry-After}, during which the deployment is skipped although the circuit may be closed. All
 * methods are synchronized: a breaker sees a few calls per request at most, so a lock is cheaper to
 * reason about than a lock-free state machine.
 */
public final class CircuitBreaker {

  /** The states exposed by {@code /admin/providers/health}. */
  public enum State {
    closed,
    open,
    half_open
  }

  /** A consistent view of the breaker. */
  public record Snapshot(
      State state,
      double failureRatio,
      int calls,
      Instant openUntil,
      Instant cooldownUntil,
      String lastError,
      Instant lastErrorAt) {}

  private final int windowSize;
  private final int minimumCalls;
  private final double threshold;
  private final Duration openDuration;
  private final boolean[] failures;
  private int next;
  private int count;
  private int failed;
  private State state = State.closed;
  private Instant openUntil;
  private Instant cooldownUntil;
  private boolean probing;
  private String lastError;
  private Instant lastErrorAt;

  public CircuitBreaker(
      int windowSize, int minimumCalls, double failureRatio, Duration openDuration) {
    if (windowSize < 1 || minimumCalls < 1 || failureRatio <= 0 || failureRatio > 1) {
      throw new IllegalArgumentException("invalid circuit breaker settings");
    }
    this.windowSize = windowSize;
    this.minimumCalls = Math.min(minimumCalls, windowSize);
    this.threshold = failureRatio;
    this.openDuration = openDuration;
    this.failures = new boolean[windowSize];
  }

  /**
   * True when a call may go to the deployment now; a true answer in the open state after the open
   * duration makes the caller the (only) half-open probe, which must end with {@link #onSuccess},
   * {@link #onFailure} or {@link #release}.
   */
  public synchronized boolean tryAcquire(Instant now) {
    if (cooldownUntil != null && now.isBefore(cooldownUntil)) {
      return false;
    }
    switch (state) {
      case closed:
        return true;
      case open:
        if (now.isBefore(openUntil)) {
          return false;
        }
        state = State.half_open;
        probing = true;
        return true;
      default:
        if (probing) {
          return false;
        }
        probing = true;
        return true;
    }
  }

  /** True when {@link #tryAcquire} would let a call through now (does not take the probe). */
  public synchronized boolean available(Instant now) {
    if (cooldownUntil != null && now.isBefore(cooldownUntil)) {
      return false;
    }
    return switch (state) {
      case closed -> true;
      case open -> !now.isBefore(openUntil);
      case half_open -> !probing;
    };
  }

  /** The deployment answered (a caller error such as 400 also counts: the deployment is up). */
  public synchronized void onSuccess() {
    if (state == State.half_open) {
      closeAndReset();
      return;
    }
    add(false);
  }

  /**
   * The deployment failed with a retryable error (connect error, timeout, 5xx, 429).
   *
   * @param retryAfter a cooldown to honour (429), or {@code null}
   */
  public synchronized void onFailure(Instant now, String error, Duration retryAfter) {
    lastError = error;
    lastErrorAt = now;
    if (retryAfter != null && !retryAfter.isNegative()) {
      Instant until = now.plus(retryAfter);
      if (cooldownUntil == null || until.isAfter(cooldownUntil)) {
        cooldownUntil = until;
      }
    }
    if (state == State.half_open) {
      open(now);
      return;
    }
    add(true);
    if (state == State.closed && count >= minimumCalls && ratio() >= threshold) {
      open(now);
    }
  }

  /** The call ended without telling anything about the deployment (the caller went away). */
  public synchronized void release() {
    probing = false;
  }

  public synchronized Snapshot snapshot(Instant now) {
    State shown = state == State.open && !now.isBefore(openUntil) ? State.half_open : state;
    return new Snapshot(
        shown,
        ratio(),
        count,
        state == State.closed ? null : openUntil,
        cooldownUntil != null && now.isBefore(cooldownUntil) ? cooldownUntil : null,
        lastError,
        lastErrorAt);
  }

  /** True while the circuit is open (the gauge): not counting a half-open probe window. */
  public synchronized boolean isOpen() {
    return state != State.closed;
  }

  private void open(Instant now) {
    state = State.open;
    openUntil = now.plus(openDuration);
    probing = false;
  }

  private void closeAndReset() {
    state = State.closed;
    probing = false;
    openUntil = null;
    count = 0;
    failed = 0;
    next = 0;
  }

  private void add(boolean failure) {
    if (count == windowSize) {
      if (failures[next]) {
        failed--;
      }
    } else {
      count++;
    }
    failures[next] = failure;
    if (failure) {
      failed++;
    }
    next = (next + 1) % windowSize;
  }

  private double ratio() {
    return count == 0 ? 0 : (double) failed / count;
  }
}
