package dev.atelier.worker.messaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class InFlightStepsTest {

  @Test
  void drainWaitsForRunningStepsAndAdmitsNoNewOnes() throws Exception {
    InFlightSteps steps = new InFlightSteps();
    assertThat(steps.enter()).isTrue();

    CompletableFuture<Boolean> drained =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return steps.drain(Duration.ofSeconds(10));
              } catch (InterruptedException e) {
                throw new IllegalStateException(e);
              }
            });
    await().atMost(Duration.ofSeconds(5)).until(steps::draining);
    assertThat(steps.enter()).isFalse();
    assertThat(drained).isNotDone();

    steps.exit();
    assertThat(drained.get()).isTrue();
    assertThat(steps.running()).isZero();
  }

  @Test
  void drainGivesUpAfterItsTimeout() throws Exception {
    InFlightSteps steps = new InFlightSteps();
    steps.enter();
    assertThat(steps.drain(Duration.ofMillis(50))).isFalse();
    assertThat(steps.running()).isEqualTo(1);
  }
}
