package dev.atelier.worker.client;

/**
 * The gateway is still making an earlier call with this call's {@code Idempotency-Key} (409 {@code
 * idempotency_key_in_use}): a run of the same step attempt that died mid-call, whose answer the
 * gateway keeps once it comes. Asking again cannot charge the call twice, so {@link
 * GatewayChat#chat} waits and asks again, as for a gateway it cannot reach.
 */
public class CallStillRunningException extends CallInDoubtException {

  public CallStillRunningException(String message, Throwable cause) {
    super(message, cause);
  }
}
