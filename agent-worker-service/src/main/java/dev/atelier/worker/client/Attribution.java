package dev.atelier.worker.client;

import io.opentelemetry.context.Context;
import io.opentelemetry.context.ContextKey;
import java.util.Optional;

/**
 * Who an LLM call is made for. It rides in the step's OpenTelemetry {@link Context}, so it reaches
 * every outbound call made while the step runs without being passed through each method; {@link
 * AttributionHeaders} turns it into the {@code X-Atelier-*} headers the gateway meters by. It is a
 * context entry, not W3C baggage: baggage would be encoded into every call and message the step
 * makes and decoded by every service that receives one, for nothing (each reads the headers), and
 * would carry the team and budget on to whatever those services call. {@code workflowBudgetUsd},
 * the workflow's whole budget (plain decimal, or {@code null}), lets the gateway create or raise
 * the workflow's hard budget on the first call it sees; {@code team}, the workflow's team, is who
 * the gateway bills (the worker's key is a service key).
 */
public record Attribution(
    String workflowId,
    String stepId,
    String agent,
    String conversationId,
    String workflowBudgetUsd,
    String team) {

  private static final ContextKey<Attribution> KEY = ContextKey.named("atelier-attribution");

  /** {@code context} with this attribution in it. */
  public Context storeIn(Context context) {
    return context.with(KEY, this);
  }

  /** The attribution in the current context, if a step is running. */
  public static Optional<Attribution> current() {
    return Optional.ofNullable(Context.current().get(KEY));
  }
}
