package dev.atelier.kit.amqp;

import io.opentelemetry.context.Context;
import java.time.Instant;
import java.util.UUID;

/**
 * One event to publish whose body is already encoded (by {@code EventCodec.write}), for a publisher
 * that kept the bytes (a local journal) and must not encode them again.
 *
 * @param workflowId the event's workflow, for the publish span; null when it has none
 * @param parent the trace context the publish span joins
 */
public record EncodedEvent(
    String exchange,
    String routingKey,
    UUID eventId,
    String type,
    Instant occurredAt,
    UUID workflowId,
    byte[] body,
    Context parent) {}
