package dev.atelier.worker.client;

/** context-service refused a request (4xx other than a transient one); retrying will not help. */
public class ContextRejectedException extends RuntimeException {

  private final int status;

  public ContextRejectedException(int status, String message) {
    super(message);
    this.status = status;
  }

  public int status() {
    return status;
  }
}
