package dev.atelier.worker.client;

/**
 * The gateway refused the connection: the request reached nothing, so trying it again cannot charge
 * a call twice. {@link GatewayChat#chat} retries these for a while before giving up with one.
 */
public class GatewayUnreachableException extends GatewayException {

  public GatewayUnreachableException(String message, Throwable cause) {
    super(true, message, cause);
  }
}
