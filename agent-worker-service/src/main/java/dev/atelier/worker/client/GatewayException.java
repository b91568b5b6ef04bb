package dev.atelier.worker.client;

import dev.atelier.contracts.StepFailed;

/**
 * An LLM call through the gateway failed.
 *
 * @see GatewayChat
 */
public class GatewayException extends RuntimeException {

  private final boolean retryable;
  private final int status;
  private final String code;
  private final String param;

  public GatewayException(boolean retryable, String message, Throwable cause) {
    this(retryable, 0, null, null, message, cause);
  }

  public GatewayException(
      boolean retryable, int status, String code, String param, String message, Throwable cause) {
    super(message, cause);
    this.retryable = retryable;
    this.status = status;
    this.code = code;
    this.param = param;
  }

  /** Whether another attempt may succeed: timeouts, connection errors, 408, 429 and 5xx. */
  public boolean retryable() {
    return retryable;
  }

  /** The HTTP status the gateway answered with, or 0 when there was no answer. */
  public int status() {
    return status;
  }

  /** The OpenAI-style {@code error.code} of the answer ({@code budget_exceeded}, ...), or null. */
  public String code() {
    return code;
  }

  /**
   * The OpenAI-style {@code error.param} of the answer, or null; with {@code budget_exceeded} the
   * scope of the budget that refused ({@code global}, {@code team}, {@code workflow}).
   */
  public String param() {
    return param;
  }

  /**
   * The call's {@code Idempotency-Key} was used by an earlier run for a request with another body
   * (422 {@code idempotency_key_reused}).
   */
  public boolean keyReused() {
    return status == 422 && "idempotency_key_reused".equals(code);
  }

  /** The gateway refused the call because a hard budget (workflow, team or global) is spent. */
  public boolean budgetExceeded() {
    return StepFailed.BUDGET_EXCEEDED.equals(code);
  }

  /**
   * The model or its provider does not take {@code response_format} of type {@code json_schema}: a
   * 400 whose error names that parameter. Such a call is worth repeating with {@code json_object}
   * and the schema in the prompt.
   */
  public boolean structuredOutputUnsupported() {
    if (status != 400) {
      return false;
    }
    String text = (getMessage() + " " + (code == null ? "" : code)).toLowerCase();
    return text.contains("response_format") || text.contains("json_schema");
  }
}
