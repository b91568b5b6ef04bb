package dev.atelier.kit.amqp;

import dev.atelier.contracts.AtelierEvent;
import java.util.List;

/**
 * Handles a batch of events in one go (typically one database transaction). Returning normally
 * acknowledges every delivery of the batch at once; throwing returns them all to the queue for
 * redelivery, so the handler must be idempotent on the event id.
 */
@FunctionalInterface
public interface BatchHandler<T extends AtelierEvent> {

  /**
   * @param events the batch in delivery order; the same event may appear twice (a re-publish)
   */
  void handle(List<T> events) throws Exception;
}
