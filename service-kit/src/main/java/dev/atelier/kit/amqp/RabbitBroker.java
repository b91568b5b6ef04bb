package dev.atelier.kit.amqp;

import com.rabbitmq.client.BuiltinExchangeType;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import dev.atelier.contracts.QueueSpec;
import dev.atelier.contracts.Topology;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.interceptor.Interceptor;
import java.io.IOException;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
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

  private final RabbitConfig config;
  private final Set<String> declaredQueues = ConcurrentHashMap.newKeySet();
  private volatile Connection connection;
  private ExecutorService handlerPool;

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
