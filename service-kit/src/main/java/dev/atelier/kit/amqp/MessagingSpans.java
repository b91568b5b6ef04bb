package dev.atelier.kit.amqp;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.UUID;

/**
 * Messaging spans named and attributed per OpenTelemetry semantic conventions (v1.41.1) for
 * RabbitMQ.
 */
@ApplicationScoped
public class MessagingSpans {

  public static final AttributeKey<String> SYSTEM = AttributeKey.stringKey("messaging.system");
  public static final AttributeKey<String> OPERATION_NAME =
      AttributeKey.stringKey("messaging.operation.name");
  public static final AttributeKey<String> OPERATION_TYPE =
      AttributeKey.stringKey("messaging.operation.type");
  public static final AttributeKey<String> DESTINATION =
      AttributeKey.stringKey("messaging.destination.name");
  public static final AttributeKey<String> ROUTING_KEY =
      AttributeKey.stringKey("messaging.rabbitmq.destination.routing_key");
  public static final AttributeKey<String> MESSAGE_ID =
      AttributeKey.stringKey("messaging.message.id");
  public static final AttributeKey<Long> BODY_SIZE =
      AttributeKey.longKey("messaging.message.body.size");
  public static final AttributeKey<String> WORKFLOW_ID =
      AttributeKey.stringKey("atelier.workflow.id");

  private final Tracer tracer;

  public MessagingSpans(OpenTelemetry openTelemetry) {
    this.tracer = openTelemetry.getTracer("dev.atelier.messaging");
  }

  /** A PRODUCER span {@code publish <exchange>} under {@code parent}. */
  public Span publish(
      Context parent, String exchange, String routingKey, UUID eventId, UUID workflowId, int size) {
    return tracer
        .spanBuilder("publish " + exchange)
        .setParent(parent)
        .setSpanKind(SpanKind.PRODUCER)
        .setAttribute(SYSTEM, "rabbitmq")
        .setAttribute(OPERATION_NAME, "publish")
        .setAttribute(OPERATION_TYPE, "send")
        .setAttribute(DESTINATION, exchange + ":" + routingKey)
        .setAttribute(ROUTING_KEY, routingKey)
        .setAttribute(MESSAGE_ID, String.valueOf(eventId))
        .setAttribute(WORKFLOW_ID, workflowId == null ? null : workflowId.toString())
        .setAttribute(BODY_SIZE, (long) size)
        .startSpan();
  }

  /**
   * A CONSUMER span {@code process <queue>} that covers the whole handling of one delivery, child
   * of the producer's context.
   */
  public Span process(Context parent, String exchange, String routingKey, String queue, int size) {
    return tracer
        .spanBuilder("process " + queue)
        .setParent(parent)
        .setSpanKind(SpanKind.CONSUMER)
        .setAttribute(SYSTEM, "rabbitmq")
        .setAttribute(OPERATION_NAME, "process")
        .setAttribute(OPERATION_TYPE, "process")
        .setAttribute(DESTINATION, exchange + ":" + routingKey)
        .setAttribute(ROUTING_KEY, routingKey)
        .setAttribute(BODY_SIZE, (long) size)
        .startSpan();
  }
}
