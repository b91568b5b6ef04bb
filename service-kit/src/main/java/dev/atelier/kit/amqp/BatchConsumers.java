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
import dev.atelier.kit.timers.Timers;
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
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.jboss.logging.Logger;

/**
 * Consumes a queue in batches: deliveries are collected per channel until {@link
 * Options#maxBatch()} of them are waiting or the oldest has waited {@link Options#maxWait()}, then
 * the whole batch goes to one {@link BatchHandler} call and, once it returns, is acknowledged with
 * a single {@code basicAck(multiple=true)}. If the handler fails transiently (the database
 * unreachable, a deadlock), it runs again in place until it succeeds ({@link TransientRetry}); if
 * it fails otherwise, each of its events is handled again alone, so that one event the handler can
 * never store (a value the database refuses) does not take the others with it: those handled are
 * acknowledged. An event that still fails while others succeeded is returned to the queue, and when
 * it fails so again on a redelivery it is the event's own fault: it is dead-lettered with the
 * handler's error in {@link Headers#DEAD_LETTER_REASON}. If every event fails alone too, the fault
 * is not theirs (a bug, a schema not migrated yet): the batch is returned to the queue ({@code
 * basicNack(multiple=true, requeue=true)}) and redelivered, and the queue's delivery limit
 * dead-letters it eventually.
 *
 * <p>Pipelined: each channel has one writer thread that runs the handler for its batches, one after
 * the other in the order they were formed, while the channel's delivery thread goes on receiving
 * and decoding the next batch. Acknowledgements therefore stay in delivery-tag order (batch n is
 * settled before batch n+1 is handled) and always follow the handler's return (the commit); a crash
 * between the two only causes a redelivery, which an idempotent handler absorbs. At most {@code
 * prefetch / maxBatch} batches of a channel are waiting or being written; {@code prefetch >= 2 *
 * maxBatch} lets the next batch fill while one is written. A partial batch whose {@code maxWait}
 * ran out is handed over at once only when the writer is idle; otherwise it keeps filling and goes
 * when the writer is done, so a busy database gets fewer, fuller batches.
 *
 * <p>A body that is not a valid event, or that fails the per-event {@code check} (whatever runtime
 * exception decoding or the check throws), is dead-lettered on its own with the reason in {@link
 * Headers#DEAD_LETTER_REASON} as soon as it arrives and never enters a batch, so one bad record
 * never fails the others.
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

  /** How long shutdown waits for the batches being written to commit and be acknowledged. */
  private static final Duration DRAIN_ON_STOP = Duration.ofSeconds(10);

  private final RabbitBroker broker;
  private final TraceContexts traces;
  private final Tracer tracer;
  private final TransientRetry retry;
  private volatile ScheduledExecutorService timer;
  private final List<ExecutorService> writers = new CopyOnWriteArrayList<>();
  private volatile boolean stopping;

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

  BatchConsumers(
      RabbitBroker broker,
      OpenTelemetry openTelemetry,
      TraceContexts traces,
      TransientRetry retry) {
    this.broker = broker;
    this.traces = traces;
    this.tracer = openTelemetry.getTracer("dev.atelier.messaging");
    this.retry = retry;
  }

  /**
   * Declares {@code queue} and consumes it in batches.
   *
   * @param check validates one event before it joins a batch; a {@link MalformedEventException} (or
   *     any other runtime exception) it throws dead-letters that event alone
   */
  public <T extends AtelierEvent> void consume(
      QueueSpec queue, Class<T> type, Options options, Consumer<T> check, BatchHandler<T> handler) {
    broker.declare(queue);
    retry.register(queue.name());
    for (int i = 0; i < options.concurrency(); i++) {
      ExecutorService writer =
          Executors.newSingleThreadExecutor(
              r -> {
                Thread th = new Thread(r, "amqp-batch-writer-" + queue.name());
                th.setDaemon(true);
                return th;
              });
      writers.add(writer);
      try {
        // A channel the broker closes is consumed again on a new one with the same writer; the
        // closed channel's batches still queued there are skipped (their deliveries went back).
        broker.keepConsuming(
            queue.name(),
            () -> {
              Channel ch = broker.connection().createChannel();
              ch.basicQos(options.prefetch());
              ch.basicConsume(
                  queue.name(),
                  false,
                  new Batching<>(ch, writer, queue, type, options, check, handler));
              return ch;
            });
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
          // A timed flush only hands the batch to its channel's writer: one thread is plenty.
          timer = Timers.daemon("amqp-batch-timer");
        }
        t = timer;
      }
    }
    return t;
  }

  void onStop(@Observes @Priority(Interceptor.Priority.PLATFORM_AFTER - 1) ShutdownEvent event) {
    // Batches not yet handed to the handler stay unacknowledged: closing the connection (after
    // this) returns them to the queue. A batch being written may finish and be acknowledged.
    stopping = true;
    ScheduledExecutorService t = timer;
    if (t != null) {
      t.shutdownNow();
    }
    writers.forEach(ExecutorService::shutdown);
    long deadline = System.nanoTime() + DRAIN_ON_STOP.toNanos();
    try {
      for (ExecutorService w : writers) {
        if (!w.awaitTermination(deadline - System.nanoTime(), TimeUnit.NANOSECONDS)) {
          w.shutdownNow();
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      writers.forEach(ExecutorService::shutdownNow);
    }
  }

  /**
   * Why the handler failed an event: the exception and its root cause (where the database names
   * what it refused), clipped.
   */
  static String handlerReason(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String reason = describe(e) + (root == e ? "" : " (caused by " + describe(root) + ")");
    if (reason.length() > 2_000) {
      reason = reason.substring(0, 2_000) + "...";
    }
    return reason;
  }

  private static String describe(Throwable t) {
    return t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
  }

  /**
   * One delivery waiting in a batch, with its body and properties for dead-lettering it alone if
   * the handler can never store it.
   */
  private record Pending<T>(
      T event,
      long tag,
      boolean redelivered,
      SpanContext producer,
      AMQP.BasicProperties props,
      byte[] body) {}

  private final class Batching<T extends AtelierEvent> extends DefaultConsumer {
    private final ExecutorService writer;
    private final QueueSpec queue;
    private final Class<T> type;
    private final Options options;
    private final Consumer<T> check;
    private final BatchHandler<T> handler;

    /**
     * Guards {@link #pending}, {@link #generation}, {@link #inFlight} and {@link #overdue}; held
     * only to add to, take or count batches.
     */
    private final Object batchLock = new Object();

    /**
     * Serialises the channel operations of the delivery thread (dead letters) and the writer
     * (acks), so their frames never interleave on the shared channel.
     */
    private final Object channelLock = new Object();

    private List<Pending<T>> pending = new ArrayList<>();

    /** Counts batches, so a timer armed for an earlier batch does not flush a later one early. */
    private long generation;

    /** Batches handed to the writer and not yet settled. */
    private int inFlight;

    /** The waiting partial batch has waited {@code maxWait} while the writer was busy. */
    private boolean overdue;

    Batching(
        Channel channel,
        ExecutorService writer,
        QueueSpec queue,
        Class<T> type,
        Options options,
        Consumer<T> check,
        BatchHandler<T> handler) {
      super(channel);
      this.writer = writer;
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
      } catch (RuntimeException e) {
        // Whatever decoding or the check throws (a MalformedEventException or, say, a
        // NullPointerException), only this event is bad: dead-lettered alone, it never fails a
        // batch. Settled here, before any later delivery can join a batch: a later batch's
        // ack(multiple) never covers this tag.
        deadLetter(tag, props, body, EventConsumers.malformedReason(e));
        return;
      } catch (Error e) {
        // Thrown to the client library, it would close the channel for good. Returned to the
        // queue (settled, so no later ack(multiple) covers it), it meets the delivery limit.
        LOG.warnf("reading a message from %s failed, returning it: %s", queue.name(), e.toString());
        synchronized (channelLock) {
          try {
            getChannel().basicNack(tag, false, true);
          } catch (IOException | RuntimeException nackFailed) {
            LOG.debugf("could not return a message to %s: %s", queue.name(), nackFailed);
          }
        }
        return;
      }
      SpanContext producer = Span.fromContext(traces.extract(headers)).getSpanContext();
      synchronized (batchLock) {
        pending.add(new Pending<>(event, tag, envelope.isRedeliver(), producer, props, body));
        if (pending.size() >= options.maxBatch()) {
          handOver();
        } else if (pending.size() == 1) {
          long armedFor = generation;
          timer()
              .schedule(
                  () -> flushIfStill(armedFor), options.maxWait().toNanos(), TimeUnit.NANOSECONDS);
        }
      }
    }

    /**
     * The timer of a partial batch. It is handed over only if the writer is idle; while a batch is
     * being written it keeps growing instead (it could not be written sooner anyway, and fewer,
     * fuller batches cost the database less) and goes as soon as the writer is done.
     */
    private void flushIfStill(long armedFor) {
      synchronized (batchLock) {
        if (generation == armedFor && !pending.isEmpty()) {
          if (inFlight == 0) {
            handOver();
          } else {
            overdue = true;
          }
        }
      }
    }

    /** Called by the writer after settling a batch. */
    private void written() {
      synchronized (batchLock) {
        inFlight--;
        if (inFlight == 0 && overdue && !pending.isEmpty()) {
          handOver();
        }
      }
    }

    /**
     * Gives the waiting batch to this channel's writer. Called under {@link #batchLock}, so batches
     * reach the writer's FIFO queue in the order they were formed, which is delivery-tag order.
     */
    private void handOver() {
      List<Pending<T>> batch = pending;
      pending = new ArrayList<>();
      generation++;
      overdue = false;
      try {
        writer.execute(
            () -> {
              try {
                write(batch);
              } finally {
                written();
              }
            });
        inFlight++;
      } catch (RejectedExecutionException e) {
        // Shutting down: the batch stays unacknowledged and the broker returns it.
        LOG.debugf("not writing a batch of %d from %s: stopping", batch.size(), queue.name());
      }
    }

    /** Runs the handler for one batch on the writer thread, then acknowledges or returns it. */
    private void write(List<Pending<T>> batch) {
      if (stopping || !getChannel().isOpen()) {
        // Its deliveries go back to the queue with the channel; writing them now would only
        // produce rows whose acknowledgement cannot be sent.
        return;
      }
      // Tags grow on a channel; the last one with multiple=true covers the whole batch (and
      // nothing else: every earlier delivery was in an earlier batch, settled before this one, or
      // was dead-lettered on arrival).
      long lastTag = batch.get(batch.size() - 1).tag();
      Span span = batchSpan(batch);
      try (Scope ignored = span.makeCurrent()) {
        List<T> events = batch.stream().map(Pending::event).toList();
        retry.run(
            queue.name(),
            "a batch of " + events.size(),
            () -> handler.handle(events),
            () -> stopping || !getChannel().isOpen());
      } catch (Exception | Error e) {
        // Errors too: a batch left unsettled here would be acknowledged by the next batch's
        // ack(multiple) without having been written.
        span.recordException(e);
        span.setStatus(StatusCode.ERROR, String.valueOf(e.getMessage()));
        span.end();
        if (batch.size() > 1 && e instanceof Exception) {
          LOG.warnf(
              "handling a batch of %d from %s failed, handling its events one by one: %s",
              batch.size(), queue.name(), e.toString());
          writeOneByOne(batch);
        } else {
          LOG.warnf(
              "handling %d event(s) from %s failed, returning them to the queue: %s",
              batch.size(), queue.name(), e.toString());
          settle(lastTag, true, false);
        }
        return;
      }
      span.end();
      settle(lastTag, true, true);
    }

    /**
     * After {@code batch} failed as a whole, not transiently: handles each event alone (transient
     * failures again retried in place) and acknowledges each one handled. If none was, the whole
     * batch goes back to the queue. If some were, each that failed is returned to the queue the
     * first time (its failure may have been a passing one) and dead-lettered with the reason when
     * it fails so again on a redelivery. An event whose handling ends with an {@code Error} is
     * returned, never dead-lettered. Stopping midway leaves the rest unacknowledged, for the broker
     * to return when the channel closes.
     */
    private void writeOneByOne(List<Pending<T>> batch) {
      List<Pending<T>> failed = new ArrayList<>();
      List<Throwable> errors = new ArrayList<>();
      for (Pending<T> p : batch) {
        if (stopping || !getChannel().isOpen()) {
          return;
        }
        Span span = batchSpan(List.of(p));
        try (Scope ignored = span.makeCurrent()) {
          retry.run(
              queue.name(),
              "an event of a failed batch",
              () -> handler.handle(List.of(p.event())),
              () -> stopping || !getChannel().isOpen());
        } catch (Exception | Error e) {
          span.recordException(e);
          span.setStatus(StatusCode.ERROR, String.valueOf(e.getMessage()));
          span.end();
          if (stopping || !getChannel().isOpen()) {
            // It failed because the consumer stops (a retry given up, an interrupted call): not
            // the event's fault. Unacknowledged, it goes back with the channel.
            return;
          }
          failed.add(p);
          errors.add(e);
          continue;
        }
        span.end();
        settle(p.tag(), false, true);
      }
      if (failed.size() == batch.size()) {
        LOG.warnf(
            "every event of a batch of %d from %s failed alone too, returning the batch to the"
                + " queue: %s",
            batch.size(), queue.name(), handlerReason(errors.get(0)));
        settle(batch.get(batch.size() - 1).tag(), true, false);
        return;
      }
      for (int i = 0; i < failed.size(); i++) {
        Pending<T> p = failed.get(i);
        Throwable e = errors.get(i);
        if (e instanceof Error || !p.redelivered()) {
          LOG.warnf(
              "an event from %s fails while others of its batch succeed, returning it to the"
                  + " queue (dead-lettered if it fails so again): %s",
              queue.name(), handlerReason(e));
          settle(p.tag(), false, false);
        } else {
          String reason =
              "handling this event fails while others of its batch succeed, as on an earlier"
                  + " delivery: "
                  + handlerReason(e);
          deadLetter(p.tag(), p.props(), p.body(), reason);
        }
      }
    }

    /**
     * Acknowledges (after the handler's commit) or returns the delivery {@code tag}, and with
     * {@code multiple} every earlier one not yet settled.
     */
    private void settle(long tag, boolean multiple, boolean handled) {
      try {
        synchronized (channelLock) {
          if (handled) {
            getChannel().basicAck(tag, multiple);
          } else if (getChannel().isOpen()) {
            getChannel().basicNack(tag, multiple, true);
          }
        }
      } catch (IOException | RuntimeException e) {
        // The channel is gone; the broker returns the unacknowledged deliveries by itself, and a
        // handled batch comes back as duplicates the idempotent handler skips.
        LOG.warnf(
            "could not %s %s from %s, the broker will redeliver it: %s",
            handled ? "acknowledge" : "return",
            multiple ? "a batch" : "an event",
            queue.name(),
            e.toString());
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

    private void deadLetter(long tag, AMQP.BasicProperties props, byte[] body, String reason) {
      LOG.errorf("dead-lettering a message from %s: %s", queue.name(), reason);
      Map<String, Object> headers =
          new HashMap<>(props.getHeaders() == null ? Map.of() : props.getHeaders());
      headers.put(Headers.DEAD_LETTER_REASON, reason);
      headers.put("x-atelier-original-queue", queue.name());
      Channel ch = getChannel();
      synchronized (channelLock) {
        try {
          ch.basicPublish(
              queue.deadLetterExchange(), "", props.builder().headers(headers).build(), body);
          ch.basicAck(tag, false);
        } catch (IOException | RuntimeException e) {
          // Could not copy it with its reason: let the broker dead-letter it without one.
          try {
            ch.basicReject(tag, false);
          } catch (IOException | RuntimeException rejectFailed) {
            // The channel is gone; the broker returns the delivery by itself.
            LOG.debugf("could not reject a message from %s: %s", queue.name(), rejectFailed);
          }
        }
      }
    }
  }
}
