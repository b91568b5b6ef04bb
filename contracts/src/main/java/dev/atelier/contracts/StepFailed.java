package dev.atelier.contracts;

import java.time.Instant;
import java.util.UUID;

/**
 * Published by a worker to {@link Topology#STEP_RESULTS_EXCHANGE} with {@link
 * Topology#RESULT_FAILED} when an attempt cannot produce its output.
 *
 * @param errorCode stable machine-readable code, for example {@code output_invalid} or {@code
 *     provider_unavailable}
 * @param message a human-readable reason, free of secrets
 * @param retryable whether another attempt may succeed
 * @param budgetScope with {@link #BUDGET_EXCEEDED}, the scope of the budget that refused the call
 *     ({@code global}, {@code team} or {@code workflow}, as the gateway names it), or {@code null}
 *     when unknown; {@code null} with any other code
 */
public record StepFailed(
    UUID eventId,
    String type,
    Instant occurredAt,
    UUID workflowId,
    UUID stepId,
    String stepKey,
    String role,
    int attempt,
    String errorCode,
    String message,
    boolean retryable,
    Instant startedAt,
    String budgetScope)
    implements AtelierEvent {

  public static final String TYPE = "atelier.step.failed.v1";

  /**
   * The error code of a step stopped because a hard budget refused its LLM call: not retryable, and
   * the orchestrator ends the workflow as {@code budget_exceeded}. It is also the gateway's OpenAI
   * {@code error.code} for that refusal (HTTP 402), which is how the worker recognises it.
   */
  public static final String BUDGET_EXCEEDED = "budget_exceeded";

  /** {@link #budgetScope} values: the workflow's own budget, its team's, the global one. */
  public static final String BUDGET_SCOPE_WORKFLOW = "workflow";

  public static final String BUDGET_SCOPE_TEAM = "team";
  public static final String BUDGET_SCOPE_GLOBAL = "global";
}
