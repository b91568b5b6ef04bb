/**
 * The only code Atelier's services share about each other: the event records they exchange over
 * RabbitMQ, the names of exchanges, queues, routing keys and headers, and the codec that writes and
 * reads them.
 *
 * <p>Every event carries {@code eventId} (the deduplication key), {@code type} (versioned), {@code
 * occurredAt} and {@code workflowId}. Trace context travels in the AMQP headers, never in the body.
 */
package dev.atelier.contracts;
