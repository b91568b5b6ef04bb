package dev.atelier.worker.messaging;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.junit.jupiter.api.Test;

class ResultPublisherTest {

  private static final Instant NOW = Instant.parse("2026-01-01T12:00:00Z");

  @Test
  void retriesAResultUntilTheStepsDeadline() {
    assertThat(ResultPublisher.retryUntil(NOW.plusSeconds(200), NOW))
        .isEqualTo(NOW.plusSeconds(200));
  }

  @Test
  void retriesAResultAWhileEvenWhenTheDeadlineIsNearOrPast() {
    assertThat(ResultPublisher.retryUntil(NOW.plusSeconds(5), NOW))
        .isEqualTo(NOW.plus(ResultPublisher.MIN_RETRY));
    assertThat(ResultPublisher.retryUntil(NOW.minusSeconds(60), NOW))
        .isEqualTo(NOW.plus(ResultPublisher.MIN_RETRY));
  }

  @Test
  void retriesAResultForABoundedTimeWithoutOrWithAFarDeadline() {
    assertThat(ResultPublisher.retryUntil(null, NOW))
        .isEqualTo(NOW.plus(ResultPublisher.MAX_RETRY));
    assertThat(ResultPublisher.retryUntil(NOW.plusSeconds(86_400), NOW))
        .isEqualTo(NOW.plus(ResultPublisher.MAX_RETRY));
  }
}
