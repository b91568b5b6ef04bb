package dev.atelier.kit.amqp;

/**
 * The broker did not confirm a publish: nacked, unroutable, timed out or the connection failed.
 * Safe to retry.
 */
public class PublishException extends RuntimeException {

  public PublishException(String message, Throwable cause) {
    super(message, cause);
  }
}
