package dev.atelier.kit.problem;

import java.time.Duration;

/**
 * Thrown by services to answer with a specific problem. The detail is shown to the client: it names
 * the fault and carries no secrets or internals.
 */
public class ProblemException extends RuntimeException {

  private final int status;
  private final String slug;
  private final String title;
  private final Duration retryAfter;

  public ProblemException(int status, String slug, String title, String detail) {
    this(status, slug, title, detail, null);
  }

  private ProblemException(
      int status, String slug, String title, String detail, Duration retryAfter) {
    super(detail);
    this.status = status;
    this.slug = slug;
    this.title = title;
    this.retryAfter = retryAfter;
  }

  /**
   * 503: a capacity shared by every client is taken; the client is asked to wait {@code retryAfter}
   * (the {@code Retry-After} header).
   */
  public static ProblemException unavailable(String slug, String detail, Duration retryAfter) {
    return new ProblemException(503, slug, "Service unavailable", detail, retryAfter);
  }

  public static ProblemException badRequest(String slug, String detail) {
    return new ProblemException(400, slug, "Bad request", detail);
  }

  public static ProblemException notFound(String what, Object id) {
    return new ProblemException(404, "not-found", "Not found", what + " " + id + " does not exist");
  }

  public static ProblemException conflict(String slug, String detail) {
    return new ProblemException(409, slug, "Conflict", detail);
  }

  public static ProblemException tooLarge(String slug, String detail) {
    return new ProblemException(413, slug, "Payload too large", detail);
  }

  public int status() {
    return status;
  }

  public String slug() {
    return slug;
  }

  public String title() {
    return title;
  }

  /** How long the client should wait before asking again; null when not said. */
  public Duration retryAfter() {
    return retryAfter;
  }
}
