package dev.atelier.kit.amqp;

import dev.atelier.contracts.QueueSpec;
import dev.atelier.contracts.StepFailed;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import org.awaitility.Awaitility;

/**
 * What the messaging tests share: a broker configuration for their own virtual host, and waiting.
 */
final class RabbitTestSupport {

  private RabbitTestSupport() {}

  /**
   * The local RabbitMQ, virtual host {@code atelier-test-kit} (created by deploy/local/infra.sh).
   */
  static RabbitConfig config() {
    return new TestRabbitConfig(
        System.getenv().getOrDefault("RABBITMQ_HOST", "127.0.0.1"),
        5672,
        "guest",
        "guest",
        "atelier-test-kit",
        Duration.ofSeconds(10),
        4,
        2,
        Duration.ofSeconds(5),
        Duration.ofMillis(10),
        Duration.ofMillis(40));
  }

  /**
   * A new queue on {@code exchange} with its own dead-letter pair; the prefix names the test in the
   * broker.
   */
  static QueueSpec freshQueue(RabbitBroker broker, String exchange, String prefix) {
    String name = prefix + "." + UUID.randomUUID();
    QueueSpec spec = QueueSpec.of(name, exchange, "kit." + name);
    broker.declare(spec);
    return spec;
  }

  static String routingKeyOf(QueueSpec queue) {
    return queue.routingKeys().get(0);
  }

  /** A valid event to publish; a negative attempt makes one the consumers' checks reject. */
  static StepFailed failure(int attempt) {
    return new StepFailed(
        UUID.randomUUID(),
        StepFailed.TYPE,
        Instant.now(),
        UUID.randomUUID(),
        UUID.randomUUID(),
        "implement",
        "developer",
        attempt,
        "provider_unavailable",
        "upstream 503",
        true,
        Instant.now(),
        null);
  }

  /** Retries in place as the services do, with short waits; meters go to {@code meters}. */
  static TransientRetry retry(io.micrometer.core.instrument.MeterRegistry meters) {
    return new TransientRetry(Duration.ofMillis(10), Duration.ofMillis(40), meters);
  }

  /** Messages ready in {@code queue}, for use inside {@link #await}. */
  static long messageCount(com.rabbitmq.client.Channel ch, String queue) {
    try {
      return ch.messageCount(queue);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** Waits for the next message in {@code queue}'s dead-letter queue and takes it. */
  static com.rabbitmq.client.GetResponse awaitDeadLetter(
      com.rabbitmq.client.Channel ch, QueueSpec queue) {
    com.rabbitmq.client.GetResponse[] dead = new com.rabbitmq.client.GetResponse[1];
    await(
        () -> {
          try {
            dead[0] = ch.basicGet(queue.deadLetterQueue(), true);
          } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
          return dead[0] != null;
        });
    return dead[0];
  }

  static void await(BooleanSupplier condition) {
    Awaitility.await()
        .atMost(Duration.ofSeconds(15))
        .pollInterval(Duration.ofMillis(10))
        .until(condition::getAsBoolean);
  }

  private record TestRabbitConfig(
      String host,
      int port,
      String username,
      String password,
      String virtualHost,
      Duration startupTimeout,
      int consumerThreads,
      int publisherChannels,
      Duration confirmTimeout,
      Duration transientRetryDelay,
      Duration transientRetryMaxDelay)
      implements RabbitConfig {}
}
