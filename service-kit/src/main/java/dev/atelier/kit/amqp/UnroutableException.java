package dev.atelier.kit.amqp;

import java.util.Set;
import java.util.UUID;

/**
 * The broker confirmed the batch but returned some of its messages: no queue is bound for them.
 * Every other message of the batch is on a queue; publishing it again would deliver it twice.
 */
public class UnroutableException extends PublishException {

  private final Set<UUID> returnedEventIds;

  public UnroutableException(String message, Set<UUID> returnedEventIds) {
    super(message, null);
    this.returnedEventIds = Set.copyOf(returnedEventIds);
  }

  /** The event ids (message ids) of the messages that came back. */
  public Set<UUID> returnedEventIds() {
    return returnedEventIds;
  }
}
