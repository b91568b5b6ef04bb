package dev.atelier.kit.amqp;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import dev.atelier.contracts.AtelierEvent;
import dev.atelier.contracts.EventCodec;
import dev.atelier.contracts.Headers;
import dev.atelier.contracts.MalformedEventException;
import dev.atelier.contracts.QueueSpec;
import dev.atelier.kit.tracing.TraceContexts;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.interceptor.Interceptor;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.jboss.logging.Logger;

/**
 * Consumes a queue in batches: deliveries are collected per channel until {@link
 * Options#maxBatch()} of them are waiting or the oldest has waited {@link Options#maxWait()}, then
 * the whole batch goes to one {@link BatchHandler} call and, once it returns, is acknowledged with
 * a single {@code basicAck(multiple=true)}. If the handler throws, the batch is returned to the
 * queue ({@code basicNack(multiple=true, requeue=true)}) and redelivered; the queue's delivery
 * limit dead-letters it eventually.
 *
 * <p>A body that is not a valid event, or that fails the per-event {@code check}, is dead-lettered
 * on its own with the reason in {@link Headers#DEAD_LETTER_REASON} as soon as it arrives and never
 * enters a batch, so one bad record never fails the others.
 *
 * <p>Each batch is handled in one {@code process <queue>} CONSUMER span linked to the producer
 * context of every message in it (a batch has many parents, so links rather than a parent, per the
 * OpenTelemetry messaging conventions).
 *
 * <p>Requires {@code prefetch >= maxBatch}, otherwise a batch can never fill and every batch waits
 * {@code maxWait}.
 */
@ApplicationScoped
public class BatchConsumers {

  /** Semantic-convention attribute for the size of a batch. */
  public static final AttributeKey<Long> BATCH_COUNT =
      AttributeKey.longKey("messaging.batch.message_count");

  private static final Logger LOG = Logger.getLogger(BatchConsumers.class);
  private static final int TIMER_THREADS = 4;

  private final RabbitBroker broker;
  private final TraceContexts traces;
  private final Tracer tracer;
  private volatile ScheduledExecutorService timer;

  /**
   * How a queue is consumed.
   *
   * @param maxBatch most events per handler call
   * @param maxWait longest time the first event of a batch waits for more
   * @param prefetch unacknowledged deliveries per channel (at least {@code maxBatch})
   * @param concurrency channels consuming the queue, each batching on its own
   */
  public record Options(int maxBatch, Duration maxWait, int prefetch, int concurrency) {
    public Options {
      if (maxBatch < 1 || prefetch < maxBatch || concurrency < 1 || maxWait.isNegative()) {
        throw new IllegalArgumentException(
            "need maxBatch >= 1, prefetch >= maxBatch, concurrency >= 1, maxWait >= 0");
      }
    }
  }

  public BatchConsumers(RabbitBroker broker, OpenTelemetry openTelemetry, TraceContexts traces) {
    this.broker = broker;
    this.traces = traces;
    this.tracer = openTelemetry.getTracer("dev.atelier.messaging");
  }

  /**
   * Declares {@code queue} and consumes it in batches.
   *
   * @param check validates one event before it joins a batch; a {@link MalformedEventException} it
   *     throws dead-letters that event alone
   */
  public <T extends AtelierEvent> void consume(
      QueueSpec queue, Class<T> type, Options options, Consumer<T> check, BatchHandler<T> handler) {
    broker.declare(queue);
    for (int i = 0; i < options.concurrency(); i++) {
      try {
        Channel ch = broker.connection().createChannel();
        ch.basicQos(options.prefetch());
        ch.basicConsume(
            queue.name(), false, new Batching<>(ch, queue, type, options, check, handler));
      } catch (IOException e) {
        throw new IllegalStateException("cannot consume " + queue.name() + ": " + e, e);
      }
    }
    LOG.infof(
        "consuming %s in batches of up to %d / %d ms (%d x prefetch %d)",
        queue.name(),
        options.maxBatch(),
        options.maxWait().toMillis(),
        options.concurrency(),
        options.prefetch());
  }

  private ScheduledExecutorService timer() {
    ScheduledExecutorService t = timer;
    if (t == null) {
      synchronized (this) {
        if (timer == null) {
          timer =
              // A timed flush runs the handler (a transaction) on this pool, so one slow batch
              // must not hold up the other channels' timers.
              Executors.newScheduledThreadPool(
                  TIMER_THREADS,
                  r -> {
                    Thread th = new Thread(r, "amqp-batch-timer");
                    th.setDaemon(true);
                    return th;
                  });
        }
        t = timer;
      }
    }
    return t;
  }

  void onStop(@Observes @Priority(Interceptor.Priority.PLATFORM_AFTER - 1) ShutdownEvent event) {
    ScheduledExecutorService t = timer;
    if (t != null) {
      // Pending batches stay unacknowledged; closing the connection returns them to the queue.
      t.shutdownNow();
    }
  }

  /** One delivery waiting in a batch. */
  private record Pending<T>(T event, long tag, SpanContext producer) {}

  private final class Batching<T extends AtelierEvent> extends DefaultConsumer {
    private final QueueSpec queue;
    private final Class<T> type;
    private final Options options;
    private final Consumer<T> check;
    private final BatchHandler<T> handler;
    private List<Pending<T>> pending = new ArrayList<>();

    /** Counts batches, so a timer armed for an earlier batch does not flush a later one early. */
    private long generation;

    Batching(
        Channel channel,
        QueueSpec queue,
        Class<T> type,
        Options options,
        Consumer<T> check,
        BatchHandler<T> handler) {
      super(channel);
      this.queue = queue;
      this.type = type;
      this.options = options;
      this.check = check;
      this.handler = handler;
    }

    @Override
    public void handleDelivery(
        String consumerTag, Envelope envelope, AMQP.BasicProperties props, byte[] body)
        throws IOException {
      Map<String, Object> headers = props.getHeaders() == null ? Map.of() : props.getHeaders();
      long tag = envelope.getDeliveryTag();
      T event;
      try {
        event =
            type == AtelierEvent.class
                ? type.cast(EventCodec.read(body))
                : EventCodec.read(body, type);
        check.accept(event);
      } catch (MalformedEventException e) {
        synchronized (this) {
          deadLetter(tag, props, body, e.getMessage());
        }
        return;
      }
      SpanContext producer = Span.fromContext(traces.extract(headers)).getSpanContext();
      synchronized (this) {
        pending.add(new Pending<>(event, tag, producer));
        if (pending.size() >= options.maxBatch()) {
          flush();
        } else if (pending.size() == 1) {
          long armedFor = generation;
          timer()
              .schedule(
                  () -> flushIfStill(armedFor), options.maxWait().toNanos(), TimeUnit.NANOSECONDS);
        }
      }
    }

    private synchronized void flushIfStill(long armedFor) {
      if (generation == armedFor && !pending.isEmpty()) {
        flush();
      }
    }

    /** Hands the waiting batch to the handler and acknowledges or returns it. Holds the lock. */
    private void flush() {
      List<Pending<T>> batch = pending;
      pending = new ArrayList<>();
      generation++;
      // Tags grow on a channel; the last one with multiple=true covers the whole batch (and
      // nothing else: every earlier delivery is in this batch or was already settled).
      long lastTag = batch.get(batch.size() - 1).tag();
      Span span = batchSpan(batch);
      try (Scope ignored = span.makeCurrent()) {
        handler.handle(batch.stream().map(Pending::event).toList());
        getChannel().basicAck(lastTag, true);
      } catch (Exception e) {
        span.recordException(e);
        span.setStatus(StatusCode.ERROR, String.valueOf(e.getMessage()));
        LOG.warnf(
            "handling a batch of %d from %s failed, returning it to the queue: %s",
            batch.size(), queue.name(), e.toString());
        try {
          if (getChannel().isOpen()) {
            getChannel().basicNack(lastTag, true, true);
          }
        } catch (IOException | RuntimeException nackFailed) {
          // The channel is gone; the broker returns unacknowledged deliveries by itself.
          LOG.debugf("returning a batch to %s: %s", queue.name(), nackFailed);
        }
      } finally {
        span.end();
      }
    }

    private Span batchSpan(List<Pending<T>> batch) {
      SpanBuilder builder =
          tracer
              .spanBuilder("process " + queue.name())
              .setParent(Context.root())
              .setSpanKind(SpanKind.CONSUMER)
              .setAttribute(MessagingSpans.SYSTEM, "rabbitmq")
              .setAttribute(MessagingSpans.OPERATION_NAME, "process")
              .setAttribute(MessagingSpans.OPERATION_TYPE, "process")
              .setAttribute(MessagingSpans.DESTINATION, queue.name())
              .setAttribute(BATCH_COUNT, (long) batch.size());
      for (Pending<T> p : batch) {
        if (p.producer().isValid()) {
          builder.addLink(p.producer());
        }
      }
      return builder.startSpan();
    }

    private void deadLetter(long tag, AMQP.BasicProperties props, byte[] body, String reason)
        throws IOException {
      LOG.errorf("dead-lettering a message from %s: %s", queue.name(), reason);
      Map<String, Object> headers =
          new HashMap<>(props.getHeaders() == null ? Map.of() : props.getHeaders());
      headers.put(Headers.DEAD_LETTER_REASON, reason);
      headers.put("x-atelier-original-queue", queue.name());
      Channel ch = getChannel();
      try {
        ch.basicPublish(
            queue.deadLetterExchange(), "", props.builder().headers(headers).build(), body);
        ch.basicAck(tag, false);
      } catch (IOException | RuntimeException e) {
        // Could not copy it with its reason: let the broker dead-letter it without one.
        ch.basicReject(tag, false);
      }
    }
  }
}
