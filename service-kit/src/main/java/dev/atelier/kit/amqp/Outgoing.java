package dev.atelier.kit.amqp;

import dev.atelier.contracts.AtelierEvent;
import io.opentelemetry.context.Context;

/**
 * One event to publish.
 *
 * @param parent the trace context the publish span joins; {@link Context#current()} for work done
 *     now, a stored context for an outbox row
 */
public record Outgoing(String exchange, String routingKey, AtelierEvent event, Context parent) {

  public static Outgoing now(String exchange, String routingKey, AtelierEvent event) {
    return new Outgoing(exchange, routingKey, event, Context.current());
  }
}
