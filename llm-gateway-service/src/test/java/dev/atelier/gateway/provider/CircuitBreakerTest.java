package dev.atelier.gateway.provider;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class CircuitBreakerTest {

  final Instant t0 = Instant.parse("2026-01-01T00:00:00Z");

  @Test
  void opensAtTheRatioOverTheSlidingWindowAndLetsOneProbeThrough() {
    CircuitBreaker b = new CircuitBreaker(10, 10, 0.5, Duration.ofSeconds(30));
    for (int i = 0; i < 5; i++) {
      b.onSuccess();
    }
    for (int i = 0; i < 4; i++) {
      b.onFailure(t0, "provider_error (502)", null);
    }
    // 4 of 9: too few calls and below the ratio.
    assertThat(b.tryAcquire(t0)).isTrue();
    b.onFailure(t0, "provider_error (502)", null);
    assertThat(b.snapshot(t0).state()).isEqualTo(CircuitBreaker.State.open);
    assertThat(b.isOpen()).isTrue();
    assertThat(b.tryAcquire(t0.plusSeconds(29))).isFalse();

    // After the cool-off: exactly one probe.
    assertThat(b.tryAcquire(t0.plusSeconds(30))).isTrue();
    assertThat(b.tryAcquire(t0.plusSeconds(30))).isFalse();
    b.onFailure(t0.plusSeconds(30), "provider_timeout (503)", null);
    assertThat(b.snapshot(t0.plusSeconds(31)).state()).isEqualTo(CircuitBreaker.State.open);
    assertThat(b.tryAcquire(t0.plusSeconds(59))).isFalse();
    assertThat(b.tryAcquire(t0.plusSeconds(60))).isTrue();
    b.onSuccess();
    CircuitBreaker.Snapshot closed = b.snapshot(t0.plusSeconds(60));
    assertThat(closed.state()).isEqualTo(CircuitBreaker.State.closed);
    assertThat(closed.calls()).isZero();
    assertThat(closed.lastError()).isEqualTo("provider_timeout (503)");
    assertThat(b.tryAcquire(t0.plusSeconds(60))).isTrue();
  }

  @Test
  void oldOutcomesLeaveTheWindow() {
    CircuitBreaker b = new CircuitBreaker(10, 10, 0.5, Duration.ofSeconds(30));
    for (int i = 0; i < 4; i++) {
      b.onFailure(t0, "x", null);
    }
    for (int i = 0; i < 20; i++) {
      b.onSuccess();
    }
    assertThat(b.snapshot(t0).failureRatio()).isZero();
    assertThat(b.snapshot(t0).calls()).isEqualTo(10);
  }

  @Test
  void aRetryAfterCoolsTheDeploymentDownWithoutOpeningIt() {
    CircuitBreaker b = new CircuitBreaker(10, 10, 0.5, Duration.ofSeconds(30));
    b.onFailure(t0, "rate_limit_exceeded (429)", Duration.ofSeconds(2));
    assertThat(b.snapshot(t0).state()).isEqualTo(CircuitBreaker.State.closed);
    assertThat(b.snapshot(t0).cooldownUntil()).isEqualTo(t0.plusSeconds(2));
    assertThat(b.available(t0.plusMillis(1999))).isFalse();
    assertThat(b.tryAcquire(t0.plusMillis(1999))).isFalse();
    assertThat(b.tryAcquire(t0.plusSeconds(2))).isTrue();
  }
}
