package dev.atelier.contracts;

/**
 * A message body that is not a valid Atelier event. Consumers dead-letter such messages instead of
 * retrying.
 */
public class MalformedEventException extends RuntimeException {

  public MalformedEventException(String message, Throwable cause) {
    super(message, cause);
  }
}
