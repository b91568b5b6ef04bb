package dev.atelier.worker.service;

/**
 * Why a step attempt produced no output. The code and retryable flag go into {@code StepFailed}
 * unchanged, so the orchestrator's retry policy can act on them; the message is shown to users and
 * must carry no secrets.
 */
public class StepFailure extends RuntimeException {

  /**
   * The attempt's deadline had passed when the worker received it, or passed while the worker
   * waited for the model.
   */
  public static final String DEADLINE_EXCEEDED = "deadline_exceeded";

  /** The step request is unusable (incomplete agent definition, invalid output schema). */
  public static final String REQUEST_INVALID = "request_invalid";

  /** An input artifact the step names does not exist. */
  public static final String INPUT_MISSING = "input_missing";

  /** context-service could not be reached, even after retries. */
  public static final String CONTEXT_UNAVAILABLE = "context_unavailable";

  /** context-service refused a read or write (for example content over its size limit). */
  public static final String CONTEXT_REJECTED = "context_rejected";

  /** The gateway or its provider could not answer now (timeout, connection, 429, 5xx). */
  public static final String PROVIDER_UNAVAILABLE = "provider_unavailable";

  /** The gateway refused the call (400, 401, 403, 404, ...). */
  public static final String PROVIDER_REJECTED = "provider_rejected";

  /**
   * The gateway refused the call because a hard budget (the workflow's, its team's or the global
   * one) is spent. Not retryable: only a raised budget helps, and the orchestrator ends the
   * workflow as {@code budget_exceeded}.
   */
  public static final String BUDGET_EXCEEDED = dev.atelier.contracts.StepFailed.BUDGET_EXCEEDED;

  /** The model's answer did not conform to the output schema, even after repair attempts. */
  public static final String OUTPUT_INVALID = "output_invalid";

  /**
   * The step's workflow ended (cancelled, failed, budget exceeded) after the step was requested, so
   * no LLM call was made for it from then on; the orchestrator ignores the result. Retryable, in
   * case the workflow was resumed since (see {@link EndedWorkflows}): the orchestrator then sends
   * the attempt again without spending a try.
   */
  public static final String WORKFLOW_ENDED = "workflow_ended";

  /** An unexpected fault in the worker; logged with the trace id. */
  public static final String INTERNAL_ERROR = "internal_error";

  private final String errorCode;
  private final boolean retryable;
  private final String budgetScope;

  public StepFailure(String errorCode, boolean retryable, String message) {
    this(errorCode, retryable, message, null);
  }

  private StepFailure(String errorCode, boolean retryable, String message, String budgetScope) {
    super(message);
    this.errorCode = errorCode;
    this.retryable = retryable;
    this.budgetScope = budgetScope;
  }

  /**
   * A hard budget refused an LLM call: {@link #BUDGET_EXCEEDED}, not retryable.
   *
   * @param scope the refusing budget's scope as the gateway named it ({@code global}, {@code team},
   *     {@code workflow}), or null when it did not
   */
  public static StepFailure budgetExceeded(String message, String scope) {
    return new StepFailure(BUDGET_EXCEEDED, false, message, scope);
  }

  /** With {@link #BUDGET_EXCEEDED}, the refusing budget's scope, or null when unknown. */
  public String budgetScope() {
    return budgetScope;
  }

  public String errorCode() {
    return errorCode;
  }

  public boolean retryable() {
    return retryable;
  }
}
