package dev.atelier.worker.client;

/**
 * An LLM call through the gateway failed.
 *
 * @see GatewayChat
 */
public class GatewayException extends RuntimeException {

  private final boolean retryable;

  public GatewayException(boolean retryable, String message, Throwable cause) {
    super(message, cause);
    this.retryable = retryable;
  }

  /** Whether another attempt may succeed: timeouts, connection errors, 408, 429 and 5xx. */
  public boolean retryable() {
    return retryable;
  }
}
