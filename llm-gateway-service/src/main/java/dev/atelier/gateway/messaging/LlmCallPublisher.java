package dev.atelier.gateway.messaging;

import dev.atelier.contracts.EventCodec;
import dev.atelier.contracts.LlmCallRecorded;
import dev.atelier.contracts.Topology;
import dev.atelier.gateway.config.GatewayConfig;
import dev.atelier.kit.amqp.EventPublisher;
import dev.atelier.kit.amqp.Outgoing;
import dev.atelier.kit.amqp.RabbitBroker;
import dev.atelier.kit.tracing.TraceContexts;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.context.Context;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * Publishes one {@link LlmCallRecorded} per call without making the caller wait for the broker.
 *
 * <p>{@link #record} only enqueues. A dedicated thread takes records off the queue in batches and
 * publishes each batch with one broker confirm (service-kit {@link EventPublisher#publishAll}), so
 * the confirm round-trip never sits on the request path or on an event-loop thread, and its cost is
 * shared by every record of the batch. When a publish is not confirmed (broker down, channel
 * closed, timeout) the batch is written to the {@code pending_call_record} table, which a scheduled
 * drainer re-publishes once the broker is back. When the queue is full the record goes straight to
 * that table from a worker thread. A record is lost only if the process dies while it is still in
 * memory (between the caller's answer and the next confirm, normally milliseconds); a graceful
 * shutdown drains the queue first.
 */
@ApplicationScoped
public class LlmCallPublisher {

  private static final Logger LOG = Logger.getLogger(LlmCallPublisher.class);
  private static final long POLL_MILLIS = 200;
  private static final long SHUTDOWN_MILLIS = 10_000;

  private final EventPublisher publisher;
  private final RabbitBroker broker;
  private final TraceContexts traces;
  private final PendingRecordRepository spool;
  private final PendingRecordDrainer drainer;
  private final GatewayConfig.Records config;
  private final BlockingQueue<Item> queue;
  private final Counter published;
  private final Counter spooled;
  private volatile boolean running;
  private Thread worker;
  private ScheduledExecutorService retrier;

  LlmCallPublisher(
      EventPublisher publisher,
      RabbitBroker broker,
      TraceContexts traces,
      PendingRecordRepository spool,
      PendingRecordDrainer drainer,
      GatewayConfig config,
      MeterRegistry registry) {
    this.publisher = publisher;
    this.broker = broker;
    this.traces = traces;
    this.spool = spool;
    this.drainer = drainer;
    this.config = config.records();
    this.queue = new LinkedBlockingQueue<>(Math.max(1, this.config.queueCapacity()));
    this.published =
        Counter.builder("atelier.llm.records.published")
            .description("LLM call records confirmed by the broker")
            .register(registry);
    this.spooled =
        Counter.builder("atelier.llm.records.spooled")
            .description(
                "LLM call records written to the database spool because the broker did not confirm them")
            .register(registry);
    Gauge.builder("atelier.llm.records.queued", queue, BlockingQueue::size)
        .description("LLM call records waiting to be published")
        .register(registry);
  }

  private record Item(LlmCallRecorded event, Context parent) {}

  void onStart(@Observes StartupEvent event) {
    // Declared (with every Atelier exchange, budget events included) before the first record, so
    // records and budget events published before tracking-service or the orchestrator start their
    // consumers wait in these queues instead of being unroutable.
    broker.declare(
        Topology.TRACKING_LLM_CALLS,
        Topology.ORCHESTRATOR_LLM_CALLS,
        Topology.TRACKING_BUDGET_EVENTS);
    running = true;
    worker = new Thread(this::run, "llm-call-publisher");
    worker.setDaemon(true);
    worker.start();
    retrier =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "llm-call-spool-drainer");
              t.setDaemon(true);
              return t;
            });
    long every = config.retryInterval().toMillis();
    retrier.scheduleWithFixedDelay(this::drainSpool, every, every, TimeUnit.MILLISECONDS);
  }

  void onStop(@Observes ShutdownEvent event) throws InterruptedException {
    running = false;
    if (worker != null) {
      worker.join(SHUTDOWN_MILLIS);
    }
    if (retrier != null) {
      retrier.shutdownNow();
    }
  }

  /** Hands a record over for publishing; returns at once. */
  public void record(LlmCallRecorded event, Context parent) {
    Item item = new Item(event, parent);
    if (running && queue.offer(item)) {
      return;
    }
    Infrastructure.getDefaultWorkerPool()
        .execute(() -> spool(List.of(item), running ? "publish queue full" : "shutting down"));
  }

  /**
   * Publishes the outbox now rather than at the next retry interval: called after a settlement
   * queued budget threshold events.
   */
  public void drainSoon() {
    ScheduledExecutorService r = retrier;
    if (r != null && !r.isShutdown()) {
      try {
        r.execute(this::drainSpool);
      } catch (RuntimeException e) {
        // shutting down: the events stay in the outbox for the next replica to publish
      }
    }
  }

  private void run() {
    int batchSize = Math.max(1, config.batchSize());
    List<Item> batch = new ArrayList<>(batchSize);
    while (running || !queue.isEmpty()) {
      try {
        Item first = queue.poll(POLL_MILLIS, TimeUnit.MILLISECONDS);
        if (first == null) {
          continue;
        }
        batch.add(first);
        queue.drainTo(batch, batchSize - 1);
        publishOrSpool(batch);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (RuntimeException e) {
        LOG.errorf(e, "LLM call publisher loop failed");
      } finally {
        batch.clear();
      }
    }
  }

  private void publishOrSpool(List<Item> batch) {
    try {
      publisher.publishAll(
          batch.stream()
              .map(
                  i ->
                      new Outgoing(
                          Topology.LLM_CALLS_EXCHANGE, Topology.LLM_CALL, i.event(), i.parent()))
              .toList());
      published.increment(batch.size());
    } catch (RuntimeException e) {
      LOG.warnf(
          "%d LLM call record(s) not confirmed by the broker, spooling them: %s",
          batch.size(), e.getMessage());
      spool(batch, e.getMessage());
    }
  }

  private void spool(List<Item> items, String reason) {
    List<PendingRecordRepository.Pending> pending = new ArrayList<>(items.size());
    for (Item i : items) {
      Map<String, Object> carrier = new HashMap<>();
      traces.inject(i.parent() == null ? Context.root() : i.parent(), carrier);
      Map<String, String> headers = new HashMap<>();
      carrier.forEach((k, v) -> headers.put(k, String.valueOf(v)));
      pending.add(new PendingRecordRepository.Pending(i.event(), headers));
    }
    try {
      spool.insert(pending, reason);
      spooled.increment(items.size());
    } catch (Exception e) {
      // Neither the broker nor the database took it: the log is the last place it can be kept.
      for (Item i : items) {
        LOG.errorf(
            "LLM call record %s lost (broker: %s; spool: %s): %s",
            i.event().eventId(),
            reason,
            e.getMessage(),
            new String(EventCodec.write(i.event()), StandardCharsets.UTF_8));
      }
    }
  }

  private void drainSpool() {
    if (!broker.isOpen()) {
      return; // the spool waits; draining now would only time out against a closed connection
    }
    try {
      int limit = Math.max(1, config.batchSize());
      int n;
      do {
        n = drainer.drainOnce(limit);
        if (n > 0) {
          published.increment(n);
          LOG.infof("published %d event(s) from the outbox", n);
        }
      } while (n == limit);
    } catch (RuntimeException e) {
      LOG.warnf("draining the LLM call record spool failed: %s", e.getMessage());
    }
  }
}
