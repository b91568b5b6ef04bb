package dev.atelier.kit.amqp;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import dev.atelier.contracts.Headers;
import dev.atelier.kit.tracing.TraceContexts;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Publishes events persistently, mandatory, and waits for the broker's confirm: when a call
 * returns, every event is on a queue; when it throws, none may be and the caller retries (consumers
 * deduplicate on {@code eventId}, so a retry after an unconfirmed success is harmless). A message
 * no queue is bound for comes back as unroutable instead of being dropped silently: {@link
 * UnroutableException} names the events that came back, and every other event of the batch is on a
 * queue, so the caller retries only those.
 */
@ApplicationScoped
public class EventPublisher {

  private final RabbitBroker broker;
  private final MessagingSpans spans;
  private final TraceContexts traces;
  private final BlockingQueue<ConfirmChannel> idle;

  EventPublisher(RabbitBroker broker, MessagingSpans spans, TraceContexts traces) {
    this.broker = broker;
    this.spans = spans;
    this.traces = traces;
    this.idle = new ArrayBlockingQueue<>(Math.max(1, broker.config().publisherChannels()));
  }

  /** Publishes one event in the current trace context and waits for its confirm. */
  public void publish(
      String exchange, String routingKey, dev.atelier.contracts.AtelierEvent event) {
    publishAll(List.of(Outgoing.now(exchange, routingKey, event)));
  }

  /** Publishes a batch and waits once for all confirms; cheaper per event than one call each. */
  public void publishAll(List<Outgoing> batch) {
    if (batch.isEmpty()) {
      return;
    }
    ConfirmChannel cc = borrow();
    boolean healthy = false;
    List<Span> published = new ArrayList<>(batch.size());
    try {
      cc.returnedRoutes.clear();
      cc.returnedIds.clear();
      cc.returnedUnidentified = false;
      for (Outgoing o : batch) {
        EncodedEvent event = o.encoded();
        byte[] body = event.body();
        Span span =
            spans.publish(
                o.parent(),
                o.exchange(),
                o.routingKey(),
                event.eventId(),
                event.workflowId(),
                body.length);
        published.add(span);
        Map<String, Object> headers = new HashMap<>();
        traces.inject(o.parent().with(span), headers);
        headers.put(Headers.EVENT_TYPE, event.type());
        AMQP.BasicProperties props =
            new AMQP.BasicProperties.Builder()
                .contentType("application/json")
                .deliveryMode(2)
                .messageId(event.eventId().toString())
                .type(event.type())
                .timestamp(event.occurredAt() == null ? null : Date.from(event.occurredAt()))
                .headers(headers)
                .build();
        cc.channel.basicPublish(o.exchange(), o.routingKey(), true, props, body);
      }
      cc.channel.waitForConfirmsOrDie(broker.config().confirmTimeout().toMillis());
      // The broker sends a message's return before its confirm, so all returns are in by now.
      if (!cc.returnedRoutes.isEmpty()) {
        healthy = true;
        if (cc.returnedUnidentified) {
          // Not one of ours (no event id as message id): which came back is unknown.
          throw new PublishException(
              "unroutable: no queue is bound for " + String.join(", ", cc.returnedRoutes), null);
        }
        throw new UnroutableException(
            "unroutable: no queue is bound for " + String.join(", ", cc.returnedRoutes),
            Set.copyOf(cc.returnedIds));
      }
      healthy = true;
    } catch (IOException | TimeoutException | InterruptedException | RuntimeException e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      published.forEach(s -> s.setStatus(StatusCode.ERROR, e.getMessage()));
      if (e instanceof PublishException pe) {
        throw pe;
      }
      throw new PublishException("publish not confirmed by " + broker.describe() + ": " + e, e);
    } finally {
      published.forEach(Span::end);
      giveBack(cc, healthy);
    }
  }

  private ConfirmChannel borrow() {
    ConfirmChannel cc = idle.poll();
    if (cc != null && cc.channel.isOpen()) {
      return cc;
    }
    try {
      Channel ch = broker.connection().createChannel();
      ch.confirmSelect();
      ConfirmChannel fresh = new ConfirmChannel(ch);
      ch.addReturnListener(
          r -> {
            fresh.returnedRoutes.add(r.getExchange() + ":" + r.getRoutingKey());
            UUID id = eventId(r.getProperties().getMessageId());
            if (id != null) {
              fresh.returnedIds.add(id);
            } else {
              fresh.returnedUnidentified = true;
            }
          });
      return fresh;
    } catch (IOException e) {
      throw new PublishException("cannot open a channel on " + broker.describe() + ": " + e, e);
    }
  }

  /** The event id this publisher put in the message id; null if it is not one. */
  private static UUID eventId(String messageId) {
    try {
      return messageId == null ? null : UUID.fromString(messageId);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  private void giveBack(ConfirmChannel cc, boolean healthy) {
    if (healthy && cc.channel.isOpen() && idle.offer(cc)) {
      return;
    }
    try {
      if (cc.channel.isOpen()) {
        cc.channel.close();
      }
    } catch (IOException | TimeoutException | RuntimeException ignored) {
      // a broken channel is discarded either way
    }
  }

  /** Waits until idle channels are closed; used by tests and shutdown. */
  void closeIdle() throws InterruptedException {
    ConfirmChannel cc;
    while ((cc = idle.poll(0, TimeUnit.MILLISECONDS)) != null) {
      giveBack(cc, false);
    }
  }

  private static final class ConfirmChannel {
    final Channel channel;
    final Set<String> returnedRoutes = ConcurrentHashMap.newKeySet();
    final Set<UUID> returnedIds = ConcurrentHashMap.newKeySet();
    volatile boolean returnedUnidentified;

    ConfirmChannel(Channel channel) {
      this.channel = channel;
    }
  }
}
