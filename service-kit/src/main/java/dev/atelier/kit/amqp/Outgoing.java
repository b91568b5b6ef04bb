package dev.atelier.kit.amqp;

import dev.atelier.contracts.AtelierEvent;
import io.opentelemetry.context.Context;

/**
 * One event to publish.
 *
 * @param event the event; null when only its encoded form is at hand (a stored outbox row)
 * @param parent the trace context the publish span joins; {@link Context#current()} for work done
 *     now, a stored context for an outbox row
 * @param encoded what goes on the wire
 */
public record Outgoing(
    String exchange, String routingKey, AtelierEvent event, Context parent, EncodedEvent encoded) {

  /** An event encoded now. */
  public Outgoing(String exchange, String routingKey, AtelierEvent event, Context parent) {
    this(exchange, routingKey, event, parent, EncodedEvent.of(event));
  }

  public static Outgoing now(String exchange, String routingKey, AtelierEvent event) {
    return new Outgoing(exchange, routingKey, event, Context.current());
  }

  /** An event encoded earlier, published as it is. */
  public static Outgoing stored(
      String exchange, String routingKey, EncodedEvent encoded, Context parent) {
    return new Outgoing(exchange, routingKey, null, parent, encoded);
  }
}
