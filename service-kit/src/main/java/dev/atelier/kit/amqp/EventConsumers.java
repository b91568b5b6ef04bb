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
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Scope;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.interceptor.Interceptor;
import java.io.IOException;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.jboss.logging.Logger;

/**
 * Starts consumers with manual acknowledgement and bounded prefetch. Each delivery is handled
 * inside a {@code process <queue>} span that continues the producer's trace, and is acknowledged
 * only after the handler returns. A body that is not a valid event is copied to the queue's
 * dead-letter exchange with the reason in {@link Headers#DEAD_LETTER_REASON}, then acknowledged, so
 * it never blocks the queue. A handler that fails transiently (the database unreachable, a
 * deadlock) runs again in place until it succeeds ({@link TransientRetry}); any other failure
 * returns the message to the queue, whose delivery limit dead-letters it eventually.
 */
@ApplicationScoped
public class EventConsumers {

  private static final Logger LOG = Logger.getLogger(EventConsumers.class);

  private final RabbitBroker broker;
  private final MessagingSpans spans;
  private final TraceContexts traces;
  private final TransientRetry retry;
  private volatile boolean stopping;
  private volatile boolean cancelled;
  private final Set<Handling<?>> consuming = ConcurrentHashMap.newKeySet();

  EventConsumers(
      RabbitBroker broker, MessagingSpans spans, TraceContexts traces, TransientRetry retry) {
    this.broker = broker;
    this.spans = spans;
    this.traces = traces;
    this.retry = retry;
  }

  void onStop(@Observes @Priority(Interceptor.Priority.PLATFORM_AFTER - 1) ShutdownEvent event) {
    // A handler retrying in place gives up; closing the connection returns its message.
    stopping = true;
  }

  /**
   * Declares {@code queue} and consumes it with {@code concurrency} channels, each with {@code
   * prefetch} unacknowledged deliveries at most.
   */
  public <T extends AtelierEvent> void consume(
      QueueSpec queue, Class<T> type, int prefetch, int concurrency, EventHandler<T> handler) {
    broker.declare(queue);
    retry.register(queue.name());
    for (int i = 0; i < concurrency; i++) {
      try {
        broker.keepConsuming(
            queue.name(),
            () -> {
              Channel ch = broker.connection().createChannel();
              if (cancelled) {
                // Consuming again after a channel failure while stopping: not any more.
                return ch;
              }
              ch.basicQos(prefetch);
              Handling<T> handling = new Handling<>(ch, queue, type, handler);
              ch.basicConsume(queue.name(), false, handling);
              // Kept when its channel closes: automatic recovery reopens it with the consumer. A
              // channel replaced after a failure stays closed, and cancelAll skips it.
              consuming.add(handling);
              return ch;
            });
      } catch (IOException e) {
        throw new IllegalStateException("cannot consume " + queue.name() + ": " + e, e);
      }
    }
    LOG.infof("consuming %s (%d x prefetch %d)", queue.name(), concurrency, prefetch);
  }

  /**
   * Stops every consumer from receiving more deliveries (basic.cancel), keeping its channel open: a
   * delivery being handled is still acknowledged on it, and nothing more is delivered here that
   * another replica could have taken while this one finishes. Consumers a channel failure would
   * restart are not restarted.
   *
   * @return whether every consumer was cancelled (false: some channel could not be reached, and the
   *     broker may still deliver to it until the connection closes)
   */
  public boolean cancelAll() {
    cancelled = true;
    boolean all = true;
    for (Handling<?> h : consuming) {
      String tag = h.getConsumerTag();
      Channel ch = h.getChannel();
      if (tag == null || !ch.isOpen()) {
        continue;
      }
      try {
        ch.basicCancel(tag);
      } catch (IOException | RuntimeException e) {
        all = false;
        LOG.warnf("could not cancel a consumer of %s: %s", h.queue.name(), e.toString());
      }
    }
    consuming.clear();
    return all;
  }

  private final class Handling<T extends AtelierEvent> extends DefaultConsumer {
    private final QueueSpec queue;
    private final Class<T> type;
    private final EventHandler<T> handler;

    Handling(Channel channel, QueueSpec queue, Class<T> type, EventHandler<T> handler) {
      super(channel);
      this.queue = queue;
      this.type = type;
      this.handler = handler;
    }

    @Override
    public void handleDelivery(
        String consumerTag, Envelope envelope, AMQP.BasicProperties props, byte[] body)
        throws IOException {
      Map<String, Object> headers = props.getHeaders() == null ? Map.of() : props.getHeaders();
      Span span =
          spans.process(
              traces.extract(headers),
              envelope.getExchange(),
              envelope.getRoutingKey(),
              queue.name(),
              body.length);
      long tag = envelope.getDeliveryTag();
      try (Scope ignored = span.makeCurrent()) {
        T event;
        try {
          event = decode(type, body);
        } catch (RuntimeException e) {
          // Whatever decoding throws, this body can never become an event: dead-letter it now.
          span.setStatus(StatusCode.ERROR, String.valueOf(e.getMessage()));
          deadLetter(tag, props, body, malformedReason(e));
          return;
        }
        span.setAttribute(MessagingSpans.MESSAGE_ID, event.eventId().toString());
        if (event.workflowId() != null) {
          span.setAttribute(MessagingSpans.WORKFLOW_ID, event.workflowId().toString());
        }
        EventHandler.Delivery delivery =
            new EventHandler.Delivery(
                queue.name(),
                envelope.getRoutingKey(),
                envelope.isRedeliver(),
                deliveryCount(headers));
        retry.run(
            queue.name(),
            "a message",
            () -> handler.handle(event, delivery),
            () -> stopping || !getChannel().isOpen());
        getChannel().basicAck(tag, false);
      } catch (MalformedEventException e) {
        span.setStatus(StatusCode.ERROR, e.getMessage());
        deadLetter(tag, props, body, e.getMessage());
      } catch (Exception | Error e) {
        // Errors too (a StackOverflowError, an OutOfMemoryError): thrown to the client library,
        // they would close the channel, and automatic recovery does not reopen it: the consumer
        // would be gone for good. Returned to the queue, a poison message meets the delivery limit.
        span.recordException(e);
        span.setStatus(StatusCode.ERROR, String.valueOf(e.getMessage()));
        LOG.warnf(
            "handling a message from %s failed, returning it to the queue: %s",
            queue.name(), e.toString());
        try {
          if (getChannel().isOpen()) {
            getChannel().basicNack(tag, false, true);
          }
        } catch (IOException | RuntimeException nackFailed) {
          // The channel is gone; the broker returns the delivery by itself.
          LOG.debugf("could not return a message to %s: %s", queue.name(), nackFailed);
        }
      } finally {
        span.end();
      }
    }

    private void deadLetter(long tag, AMQP.BasicProperties props, byte[] body, String reason)
        throws IOException {
      LOG.errorf("dead-lettering a message from %s: %s", queue.name(), reason);
      Map<String, Object> headers =
          new HashMap<>(props.getHeaders() == null ? Map.of() : props.getHeaders());
      headers.put(Headers.DEAD_LETTER_REASON, reason);
      headers.put("x-atelier-original-queue", queue.name());
      try {
        Channel ch = getChannel();
        ch.basicPublish(
            queue.deadLetterExchange(), "", props.builder().headers(headers).build(), body);
        ch.basicAck(tag, false);
      } catch (IOException | RuntimeException e) {
        // Could not copy it with its reason: let the broker dead-letter it without one.
        try {
          getChannel().basicReject(tag, false);
        } catch (IOException | RuntimeException rejectFailed) {
          // The channel is gone; the broker returns the delivery by itself.
          LOG.debugf("could not reject a message from %s: %s", queue.name(), rejectFailed);
        }
      }
    }
  }

  private static <T extends AtelierEvent> T decode(Class<T> type, byte[] body) {
    // A queue that carries several event types is consumed as AtelierEvent: the body's type field
    // decides.
    return type == AtelierEvent.class
        ? type.cast(EventCodec.read(body))
        : EventCodec.read(body, type);
  }

  /**
   * The dead-letter reason for a body that failed decoding or a per-event check: the codec's and
   * the checks' own reason, or, for anything else they throw, what it was.
   */
  static String malformedReason(RuntimeException e) {
    return e instanceof MalformedEventException
        ? e.getMessage()
        : "cannot read the event: " + e.getClass().getSimpleName() + ": " + e.getMessage();
  }

  private static long deliveryCount(Map<String, Object> headers) {
    Object count = headers.get("x-delivery-count");
    return count instanceof Number n ? n.longValue() : 0;
  }
}
