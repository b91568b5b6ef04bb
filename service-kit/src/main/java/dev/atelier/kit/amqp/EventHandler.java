package dev.atelier.kit.amqp;

import dev.atelier.contracts.AtelierEvent;

/**
 * Handles one event. Returning normally acknowledges the delivery. Throwing a {@link
 * dev.atelier.contracts.MalformedEventException} dead-letters it at once; any other exception
 * returns it to the queue for redelivery, until the queue's delivery limit dead-letters it.
 */
@FunctionalInterface
public interface EventHandler<T extends AtelierEvent> {

  void handle(T event, Delivery delivery) throws Exception;

  /** What the broker said about the delivery, for handlers that care. */
  record Delivery(String queue, String routingKey, boolean redelivered, long deliveryCount) {}
}
