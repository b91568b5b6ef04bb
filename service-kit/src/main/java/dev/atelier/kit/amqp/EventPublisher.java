package dev.atelier.kit.amqp;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import dev.atelier.contracts.EventCodec;
import dev.atelier.contracts.Headers;
import dev.atelier.kit.tracing.TraceContexts;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Publishes events persistently, mandatory, and waits for the broker's confirm: when a call
 * returns, every event is on a queue; when it throws, none may be and the caller retries (consumers
 * deduplicate on {@code eventId}, so a retry after an unconfirmed success is harmless). A message
 * no queue is bound for comes back as unroutable instead of being dropped silently.
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
    List<EncodedEvent> encoded = new ArrayList<>(batch.size());
    for (Outgoing o : batch) {
      encoded.add(
          new EncodedEvent(
              o.exchange(),
              o.routingKey(),
              o.event().eventId(),
              o.event().type(),
              o.event().occurredAt(),
              o.event().workflowId(),
              EventCodec.write(o.event()),
              o.parent()));
    }
    publishEncoded(encoded);
  }

  /**
   * Publishes events encoded beforehand and waits once for all confirms; same guarantees as {@link
   * #publishAll}.
   */
  public void publishEncoded(List<EncodedEvent> batch) {
    if (batch.isEmpty()) {
      return;
    }
    ConfirmChannel cc = borrow();
    boolean healthy = false;
    List<Span> published = new ArrayList<>(batch.size());
    try {
      cc.returned.clear();
      for (EncodedEvent o : batch) {
        byte[] body = o.body();
        Span span =
            spans.publish(
                o.parent(), o.exchange(), o.routingKey(), o.eventId(), o.workflowId(), body.length);
        published.add(span);
        Map<String, Object> headers = new HashMap<>();
        traces.inject(o.parent().with(span), headers);
        headers.put(Headers.EVENT_TYPE, o.type());
        AMQP.BasicProperties props =
            new AMQP.BasicProperties.Builder()
                .contentType("application/json")
                .deliveryMode(2)
                .messageId(o.eventId().toString())
                .type(o.type())
                .timestamp(java.util.Date.from(o.occurredAt()))
                .headers(headers)
                .build();
        cc.channel.basicPublish(o.exchange(), o.routingKey(), true, props, body);
      }
      cc.channel.waitForConfirmsOrDie(broker.config().confirmTimeout().toMillis());
      if (!cc.returned.isEmpty()) {
        healthy = true;
        throw new PublishException(
            "unroutable: no queue is bound for " + String.join(", ", cc.returned), null);
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
      ch.addReturnListener(r -> fresh.returned.add(r.getExchange() + ":" + r.getRoutingKey()));
      return fresh;
    } catch (IOException e) {
      throw new PublishException("cannot open a channel on " + broker.describe() + ": " + e, e);
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
    final Set<String> returned = ConcurrentHashMap.newKeySet();

    ConfirmChannel(Channel channel) {
      this.channel = channel;
    }
  }
}
