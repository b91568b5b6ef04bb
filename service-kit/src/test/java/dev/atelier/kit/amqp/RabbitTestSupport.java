package dev.atelier.kit.amqp;

import java.time.Duration;
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
        Duration.ofSeconds(5));
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
      Duration confirmTimeout)
      implements RabbitConfig {}
}
