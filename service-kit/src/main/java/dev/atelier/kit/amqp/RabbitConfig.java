package dev.atelier.kit.amqp;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;

/**
 * How a service reaches RabbitMQ. Every value can be set from the environment, e.g. {@code
 * RABBITMQ_HOST}.
 */
@ConfigMapping(prefix = "rabbitmq")
public interface RabbitConfig {

  @WithDefault("127.0.0.1")
  String host();

  @WithDefault("5672")
  int port();

  @WithDefault("guest")
  String username();

  @WithDefault("guest")
  String password();

  @WithDefault("/")
  String virtualHost();

  /** How long start-up waits for the broker before the service gives up. */
  @WithDefault("60s")
  Duration startupTimeout();

  /** Threads that run message handlers, shared by all consumers of the service. */
  @WithDefault("16")
  int consumerThreads();

  /** Confirm-mode channels kept open for publishing. */
  @WithDefault("4")
  int publisherChannels();

  /** How long a publish waits for the broker's confirm. */
  @WithDefault("10s")
  Duration confirmTimeout();

  /**
   * First wait before a message handler that failed transiently (database unreachable, restarting
   * or out of connections; a deadlock) runs again in place, instead of the message going back to
   * the queue and spending one of its deliveries. Doubles up to {@link #transientRetryMaxDelay}.
   */
  @WithDefault("200ms")
  Duration transientRetryDelay();

  /** Longest wait between two in-place retries of a handler that fails transiently. */
  @WithDefault("5s")
  Duration transientRetryMaxDelay();
}
