package dev.atelier.worker.client;

/** context-service could not be reached or answered with a transient error; worth retrying. */
public class ContextUnavailableException extends RuntimeException {

  public ContextUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
