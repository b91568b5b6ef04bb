package dev.atelier.orchestrator.service;

import static org.awaitility.Awaitility.await;

import dev.atelier.orchestrator.config.OrchestratorConfig;
import io.quarkus.runtime.ShutdownEvent;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The scheduler's periodic task outlives an Error; the executor would cancel it otherwise. */
class StepSchedulerErrorTest {

  @Test
  void ticksGoOnAfterAnError() {
    AtomicInteger ticks = new AtomicInteger();
    // A tick reads its batch size first: the first one fails with an Error there, the later ones
    // get no further than the missing repository (an ordinary exception, logged).
    OrchestratorConfig.Scheduler failingOnce =
        new OrchestratorConfig.Scheduler() {
          @Override
          public Duration interval() {
            return Duration.ofMillis(20);
          }

          @Override
          public int batchSize() {
            if (ticks.incrementAndGet() == 1) {
              throw new NoClassDefFoundError("simulated");
            }
            return 1;
          }

          @Override
          public Duration processedEventRetention() {
            return Duration.ofHours(1);
          }
        };
    StepScheduler scheduler = new StepScheduler(config(failingOnce), null, null, null);
    scheduler.start();
    try {
      await().atMost(Duration.ofSeconds(5)).until(() -> ticks.get() >= 3);
    } finally {
      scheduler.onStop(new ShutdownEvent());
    }
  }

  private static OrchestratorConfig config(OrchestratorConfig.Scheduler scheduler) {
    return new OrchestratorConfig() {
      @Override
      public Submission submission() {
        return null;
      }

      @Override
      public Outbox outbox() {
        return null;
      }

      @Override
      public Scheduler scheduler() {
        return scheduler;
      }

      @Override
      public Consumers consumers() {
        return null;
      }

      @Override
      public Seed seed() {
        return null;
      }

      @Override
      public Events events() {
        return null;
      }

      @Override
      public String contextServiceUrl() {
        return null;
      }
    };
  }
}
