package dev.atelier.worker.client;

/**
 * A call whose outcome the worker does not know, made under an {@code Idempotency-Key}: the gateway
 * may have made it and may yet answer it. Asking again under the same key cannot charge it twice
 * (the gateway answers a repeat from the call's answer, 409 while it runs, and makes it again only
 * if it was never made or its replica died), so {@link GatewayChat#chat} asks again with backoff;
 * another model would be another paid call.
 */
public class CallInDoubtException extends GatewayException {

  public CallInDoubtException(String message, Throwable cause) {
    super(true, message, cause);
  }
}
