package dev.atelier.kit.timers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class TimersTest {

  @Test
  void aRunThatThrowsDoesNotStopTheTimer() {
    AtomicInteger runs = new AtomicInteger();
    AtomicReference<Thread> thread = new AtomicReference<>();
    ScheduledExecutorService timer =
        Timers.every(
            "test-timer",
            Duration.ofMillis(10),
            () -> {
              thread.set(Thread.currentThread());
              if (runs.incrementAndGet() == 1) {
                throw new IllegalStateException("the first run fails");
              }
            });
    try {
      // A plain scheduled executor would never run the task a second time.
      await().atMost(Duration.ofSeconds(5)).until(() -> runs.get() >= 3);
      assertThat(thread.get().getName()).isEqualTo("test-timer");
      assertThat(thread.get().isDaemon()).isTrue();
    } finally {
      timer.shutdownNow();
    }
  }
}
