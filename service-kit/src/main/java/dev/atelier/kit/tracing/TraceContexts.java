package dev.atelier.kit.tracing;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapSetter;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.HashMap;
import java.util.Map;

/**
 * Moves W3C trace context in and out of string maps: AMQP headers, and rows that remember a trace
 * for work that starts later (an outbox row, a workflow waiting for approval).
 */
@ApplicationScoped
public class TraceContexts {

  private static final TextMapGetter<Map<String, ?>> GETTER =
      new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(Map<String, ?> carrier) {
          return carrier.keySet();
        }

        @Override
        public String get(Map<String, ?> carrier, String key) {
          Object value = carrier == null ? null : carrier.get(key);
          return value == null ? null : value.toString();
        }
      };

  private static final TextMapSetter<Map<String, Object>> SETTER = Map::put;

  private final OpenTelemetry openTelemetry;

  public TraceContexts(OpenTelemetry openTelemetry) {
    this.openTelemetry = openTelemetry;
  }

  /** Writes {@code context} into {@code carrier} (traceparent, tracestate, baggage). */
  public void inject(Context context, Map<String, Object> carrier) {
    openTelemetry.getPropagators().getTextMapPropagator().inject(context, carrier, SETTER);
  }

  public Context extract(Map<String, ?> carrier) {
    if (carrier == null || carrier.isEmpty()) {
      return Context.root();
    }
    return openTelemetry
        .getPropagators()
        .getTextMapPropagator()
        .extract(Context.root(), carrier, GETTER);
  }

  /**
   * The current context as headers, for storing beside work that continues later; empty when not
   * traced.
   */
  public Map<String, String> capture() {
    Map<String, Object> carrier = new HashMap<>();
    inject(Context.current(), carrier);
    Map<String, String> result = new HashMap<>();
    carrier.forEach((k, v) -> result.put(k, String.valueOf(v)));
    return result;
  }

  /** The current trace id, or {@code null} when there is no valid span. */
  public static String currentTraceId() {
    SpanContext sc = Span.current().getSpanContext();
    return sc.isValid() ? sc.getTraceId() : null;
  }
}
