package dev.atelier.orchestrator.messaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.atelier.orchestrator.config.OrchestratorConfig;
import io.quarkus.runtime.ShutdownEvent;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The relay's thread outlives an Error, which would otherwise stop publishing for good. */
class OutboxRelayErrorTest {

  @Test
  void theRelayKeepsPublishingAfterAnError() {
    AtomicInteger rounds = new AtomicInteger();
    OutboxPublisher failingOnce =
        new OutboxPublisher(null, null, null, null, null) {
          @Override
          public int publishDue(int limit) {
            if (rounds.incrementAndGet() == 1) {
              throw new NoClassDefFoundError("simulated");
            }
            return 0;
          }
        };
    OutboxRelay relay = new OutboxRelay(failingOnce, config());
    relay.start();
    try {
      await().atMost(Duration.ofSeconds(5)).until(() -> rounds.get() >= 3);
    } finally {
      relay.onStop(new ShutdownEvent());
    }
    assertThat(rounds.get()).isGreaterThanOrEqualTo(3);
  }

  private static OrchestratorConfig config() {
    OrchestratorConfig.Outbox outbox =
        new OrchestratorConfig.Outbox() {
          @Override
          public Duration pollInterval() {
            return Duration.ofMillis(20);
          }

          @Override
          public int batchSize() {
            return 10;
          }

          @Override
          public Duration retryBackoff() {
            return Duration.ofSeconds(1);
          }

          @Override
          public Duration retryBackoffMax() {
            return Duration.ofSeconds(1);
          }
        };
    return new OrchestratorConfig() {
      @Override
      public Submission submission() {
        return null;
      }

      @Override
      public Outbox outbox() {
        return outbox;
      }

      @Override
      public Scheduler scheduler() {
        return null;
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
