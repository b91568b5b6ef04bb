package dev.atelier.kit.amqp;

import dev.atelier.contracts.AtelierEvent;
import dev.atelier.contracts.EventCodec;
import java.time.Instant;
import java.util.UUID;

/**
 * An event as it goes on the wire: its encoded body and the envelope fields a publish sets as
 * message properties. A transactional outbox stores these and publishes them as they are, without
 * decoding the body again.
 *
 * @param workflowId null for events outside a workflow
 * @param occurredAt null when not known (the message then carries no timestamp)
 * @param body the event as {@link EventCodec#write} encodes it
 */
public record EncodedEvent(
    UUID eventId, UUID workflowId, String type, Instant occurredAt, byte[] body) {

  public static EncodedEvent of(AtelierEvent event) {
    return new EncodedEvent(
        event.eventId(),
        event.workflowId(),
        event.type(),
        event.occurredAt(),
        EventCodec.write(event));
  }
}
