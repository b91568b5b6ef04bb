package dev.atelier.kit.amqp;

import com.rabbitmq.client.BuiltinExchangeType;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.DeliverCallback;
import dev.atelier.contracts.QueueSpec;
import dev.atelier.contracts.Topology;
import dev.atelier.kit.timers.Timers;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.interceptor.Interceptor;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.jboss.logging.Logger;

/**
 * The service's one connection to RabbitMQ. It is opened lazily on first use (normally a start-up
 * observer that declares topology), waits for the broker up to {@link
 * RabbitConfig#startupTimeout()}, and recovers by itself — connection, channels, consumers and
 * declared topology — after a broker restart.
 */
@ApplicationScoped
public class RabbitBroker {

  private static final Logger LOG = Logger.getLogger(RabbitBroker.class);

  private static final int STREAM_SEGMENT_BYTES = 1_000_000;
  private static final int STREAM_CREDIT = 500;

  /** Pause before consuming again on a new channel, and between attempts that fail. */
  private static final Duration RECONSUME_DELAY = Duration.ofSeconds(2);

  private final RabbitConfig config;
  private final Set<String> declaredQueues = ConcurrentHashMap.newKeySet();
  private volatile Connection connection;
  private ExecutorService handlerPool;
  private volatile ScheduledExecutorService reconsumer;
  private volatile boolean stopping;

  RabbitBroker(RabbitConfig config) {
    this.config = config;
  }

  /** The open connection, connecting first if needed. */
  public Connection connection() {
    Connection c = connection;
    if (c != null) {
      return c;
    }
    synchronized (this) {
      if (connection == null) {
        connection = connect();
      }
      return connection;
    }
  }

  public boolean isOpen() {
    Connection c = connection;
    return c != null && c.isOpen();
  }

  public String describe() {
    return config.host() + ":" + config.port() + " vhost " + config.virtualHost();
  }

  RabbitConfig config() {
    return config;
  }

  /**
   * Declares Atelier's exchanges and the given queues with their bindings and dead-letter pairs.
   * Idempotent; declaring a queue that exists with the same arguments is a no-op on the broker.
   */
  public void declare(QueueSpec... queues) {
    try (Channel ch = connection().createChannel()) {
      for (String exchange : Topology.EXCHANGES) {
        ch.exchangeDeclare(exchange, BuiltinExchangeType.TOPIC, true);
      }
      for (QueueSpec q : queues) {
        if (declaredQueues.contains(q.name())) {
          continue;
        }
        ch.exchangeDeclare(q.deadLetterExchange(), BuiltinExchangeType.FANOUT, true);
        ch.queueDeclare(q.deadLetterQueue(), true, false, false, Map.of("x-queue-type", "quorum"));
        ch.queueBind(q.deadLetterQueue(), q.deadLetterExchange(), "");
        ch.queueDeclare(
            q.name(),
            true,
            false,
            false,
            Map.of(
                "x-queue-type",
                "quorum",
                "x-dead-letter-exchange",
                q.deadLetterExchange(),
                "x-delivery-limit",
                QueueSpec.DELIVERY_LIMIT));
        for (String key : q.routingKeys()) {
          ch.queueBind(q.name(), q.exchange(), key);
        }
        declaredQueues.add(q.name());
      }
    } catch (IOException | TimeoutException e) {
      throw new IllegalStateException(
          "cannot declare RabbitMQ topology on " + describe() + ": " + e, e);
    }
  }

  /**
   * Forgets that {@code queue} was declared, so the next {@link #declare} declares it again: a
   * message came back unroutable, so the queue may have been deleted on the broker.
   */
  public void forget(String queue) {
    declaredQueues.remove(queue);
  }

  /**
   * Reads a durable stream of what is published to {@code exchange} under {@code routingKeys}: a
   * RabbitMQ stream queue, which keeps its messages for {@code retention} (whoever reads them) and
   * which every replica reads whole, from {@code lookback} ago on (the history first, then each new
   * message as it comes). For a signal every replica needs (a broadcast) that a replica starting
   * later, or reconnecting, must also get. {@code retention} is part of the stream's declaration:
   * changing it needs the stream deleted first. After a connection failure, automatic recovery
   * consumes again from where this consumer started; after the broker closes the channel alone, it
   * is consumed again here, from {@code lookback} before then. Either way messages may come twice.
   */
  public void replay(
      String stream,
      String exchange,
      List<String> routingKeys,
      Duration retention,
      Duration lookback,
      DeliverCallback onMessage) {
    declare();
    ConsumerStart[] start = new ConsumerStart[1];
    start[0] =
        () -> {
          Channel consumer = connection().createChannel();
          // Declared with every (re)start: a stream deleted to change its retention comes back.
          consumer.queueDeclare(
              stream,
              true,
              false,
              false,
              Map.of(
                  "x-queue-type",
                  "stream",
                  "x-max-age",
                  retention.toSeconds() + "s",
                  // Retention drops whole segments: small ones, so old messages do go.
                  "x-stream-max-segment-size-bytes",
                  STREAM_SEGMENT_BYTES));
          for (String key : routingKeys) {
            consumer.queueBind(stream, exchange, key);
          }
          // A stream consumer must acknowledge, within a credit: acknowledging grants more.
          consumer.basicQos(STREAM_CREDIT);
          consumer.basicConsume(
              stream,
              false,
              Map.of("x-stream-offset", Date.from(Instant.now().minus(lookback))),
              (tag, delivery) -> {
                try {
                  onMessage.handle(tag, delivery);
                } catch (Exception | Error e) {
                  // Thrown out of here, it would close the channel as the application's own
                  // doing, which is not consumed again: one bad message would end the reading.
                  LOG.warnf("a message from the stream %s could not be handled: %s", stream, e);
                } finally {
                  consumer.basicAck(delivery.getEnvelope().getDeliveryTag(), false);
                }
              },
              tag -> {
                // The broker cancelled the consumer (the stream was deleted): read it again.
                if (!stopping) {
                  LOG.warnf(
                      "RabbitMQ cancelled the reader of the stream %s; reading again", stream);
                  reconsumeLater(stream, start[0], consumer);
                }
              });
          return consumer;
        };
    try {
      keepConsuming(stream, start[0]);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read the stream " + stream + " on " + describe(), e);
    }
  }

  /** Opens a channel and starts consuming on it; returns the channel. */
  @FunctionalInterface
  interface ConsumerStart {
    Channel start() throws IOException;
  }

  /**
   * Runs {@code start} and, whenever the broker closes the channel it opened by itself, runs it
   * again on a new channel. The broker does that to a channel whose delivery stays unacknowledged
   * past its consumer timeout (30 minutes by default; a handler retrying in place while the
   * database is down), and automatic recovery restores channels only after the connection failed:
   * the consumer would be gone for good while readiness says UP.
   */
  void keepConsuming(String queue, ConsumerStart start) throws IOException {
    Channel ch = start.start();
    // Aborting the closed channel below notifies its listeners again: consume again only once.
    AtomicBoolean replaced = new AtomicBoolean();
    // Called at once if the channel is closed already.
    ch.addShutdownListener(
        cause -> {
          if (stopping || cause.isHardError() || cause.isInitiatedByApplication()) {
            // Closed with the connection (recovery restores it) or by ourselves.
            return;
          }
          if (!replaced.compareAndSet(false, true)) {
            return;
          }
          LOG.warnf(
              "RabbitMQ closed a channel consuming %s (%s); consuming it again on a new channel",
              queue, cause.getMessage());
          // Not on this thread: it is the connection's, and opening a channel waits for it.
          reconsumeLater(queue, start, ch);
        });
  }

  private void reconsumeLater(String queue, ConsumerStart start, Channel closed) {
    try {
      reconsumer()
          .schedule(
              () -> {
                if (stopping) {
                  return;
                }
                if (closed != null) {
                  // Automatic recovery would reopen the closed channel, with its consumer, after
                  // the next connection failure: one consumer too many. Aborting it (a no-op on
                  // the broker) drops it from recovery.
                  try {
                    closed.abort();
                  } catch (IOException | RuntimeException e) {
                    LOG.debugf("aborting a closed channel of %s: %s", queue, e);
                  }
                }
                try {
                  keepConsuming(queue, start);
                  LOG.infof("consuming %s again", queue);
                } catch (IOException | RuntimeException e) {
                  LOG.warnf("cannot consume %s again yet, retrying: %s", queue, rootMessage(e));
                  reconsumeLater(queue, start, null);
                }
              },
              RECONSUME_DELAY.toMillis(),
              TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      LOG.debugf("not consuming %s again: stopping", queue);
    }
  }

  private ScheduledExecutorService reconsumer() {
    ScheduledExecutorService r = reconsumer;
    if (r == null) {
      synchronized (this) {
        if (reconsumer == null) {
          reconsumer = Timers.daemon("amqp-reconsume");
        }
        r = reconsumer;
      }
    }
    return r;
  }

  private Connection connect() {
    ConnectionFactory factory = new ConnectionFactory();
    factory.setHost(config.host());
    factory.setPort(config.port());
    factory.setUsername(config.username());
    factory.setPassword(config.password());
    factory.setVirtualHost(config.virtualHost());
    factory.setAutomaticRecoveryEnabled(true);
    factory.setTopologyRecoveryEnabled(true);
    factory.setNetworkRecoveryInterval(2000);
    factory.setRequestedHeartbeat(30);
    AtomicInteger n = new AtomicInteger();
    handlerPool =
        Executors.newFixedThreadPool(
            config.consumerThreads(),
            r -> {
              Thread t = new Thread(r, "amqp-handler-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    factory.setSharedExecutor(handlerPool);
    long deadline = System.nanoTime() + config.startupTimeout().toNanos();
    Exception last = null;
    while (System.nanoTime() < deadline) {
      try {
        Connection c = factory.newConnection(serviceName());
        LOG.infof("connected to RabbitMQ at %s", describe());
        return c;
      } catch (IOException | TimeoutException e) {
        last = e;
        LOG.warnf("RabbitMQ at %s not reachable yet (%s); retrying", describe(), rootMessage(e));
        try {
          TimeUnit.SECONDS.sleep(1);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          break;
        }
      }
    }
    handlerPool.shutdownNow();
    throw new IllegalStateException(
        "cannot connect to RabbitMQ at "
            + describe()
            + " within "
            + config.startupTimeout()
            + ": "
            + (last == null ? "interrupted" : rootMessage(last))
            + " (does the virtual host exist? rabbitmqctl add_vhost <name>)",
        last);
  }

  void onStop(@Observes @Priority(Interceptor.Priority.PLATFORM_AFTER) ShutdownEvent event) {
    stopping = true;
    ScheduledExecutorService r = reconsumer;
    if (r != null) {
      r.shutdownNow();
    }
    Connection c = connection;
    if (c != null && c.isOpen()) {
      try {
        // Closing the connection cancels consumers; unacked deliveries return to their queues.
        c.close(5000);
      } catch (IOException | RuntimeException e) {
        LOG.debugf("closing RabbitMQ connection: %s", e);
      }
    }
    if (handlerPool != null) {
      handlerPool.shutdown();
    }
  }

  private static String serviceName() {
    return System.getProperty("quarkus.application.name", "atelier");
  }

  static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
  }
}
