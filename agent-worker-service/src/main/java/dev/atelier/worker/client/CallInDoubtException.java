package dev.atelier.worker.client;

/**
 * A call whose outcome the worker does not know, made under an {@code Idempotency-Key}: the gateway
 * may have made it and may yet answer it. Asked again under the same key, the gateway answers from
 * the call's answer, 409 while it runs, and makes it again only if it was never made or its replica
 * died (then the provider bills the lost call too), so {@link GatewayChat#chat} asks again with
 * backoff; another model would be another paid call for sure.
 */
public class CallInDoubtException extends GatewayException {

  public CallInDoubtException(String message, Throwable cause) {
    super(true, message, cause);
  }
}
