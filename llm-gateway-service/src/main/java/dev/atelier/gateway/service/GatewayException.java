package dev.atelier.gateway.service;

import java.time.Duration;

/**
 * An error answered in OpenAI's shape ({@code {"error":{"message","type","param","code"}}}). The
 * message is shown to the caller: it names the fault and never carries provider credentials.
 */
public class GatewayException extends RuntimeException {

  public static final String INVALID_REQUEST = "invalid_request_error";
  public static final String AUTHENTICATION = "authentication_error";
  public static final String NOT_FOUND = "not_found_error";
  public static final String RATE_LIMIT = "rate_limit_error";
  public static final String UPSTREAM = "upstream_error";
  public static final String SERVER = "server_error";

  private final int status;
  private final String type;
  private final String code;
  private final String param;
  private final boolean fromProvider;
  private final boolean retryable;
  private final Duration retryAfter;

  public GatewayException(
      int status,
      String type,
      String code,
      String param,
      String message,
      boolean fromProvider,
      boolean retryable,
      Duration retryAfter,
      Throwable cause) {
    super(message, cause);
    this.status = status;
    this.type = type;
    this.code = code;
    this.param = param;
    this.fromProvider = fromProvider;
    this.retryable = retryable;
    this.retryAfter = retryAfter;
  }

  /** A request the gateway refuses before any provider is called. */
  public static GatewayException invalid(String param, String message) {
    return new GatewayException(
        400, INVALID_REQUEST, "invalid_value", param, message, false, false, null, null);
  }

  public static GatewayException invalid(String code, String param, String message) {
    return new GatewayException(
        400, INVALID_REQUEST, code, param, message, false, false, null, null);
  }

  public static GatewayException unauthorized(String message) {
    return new GatewayException(
        401, INVALID_REQUEST, "invalid_api_key", null, message, false, false, null, null);
  }

  public static GatewayException modelNotFound(String model, String why) {
    return new GatewayException(
        404,
        INVALID_REQUEST,
        "model_not_found",
        "model",
        "The model `" + model + "` does not exist or you do not have access to it" + why,
        false,
        false,
        null,
        null);
  }

  public static GatewayException tooLarge(long limit) {
    return new GatewayException(
        413,
        INVALID_REQUEST,
        "request_too_large",
        null,
        "The request body exceeds the gateway's limit of " + limit + " bytes",
        false,
        false,
        null,
        null);
  }

  public int status() {
    return status;
  }

  public String type() {
    return type;
  }

  public String code() {
    return code;
  }

  public String param() {
    return param;
  }

  /** True when the provider was called and failed (the call is recorded). */
  public boolean fromProvider() {
    return fromProvider;
  }

  /** True for failures worth another attempt: connect errors, timeouts, 429, 5xx. */
  public boolean retryable() {
    return retryable;
  }

  /** The provider's {@code Retry-After}, or {@code null}. */
  public Duration retryAfter() {
    return retryAfter;
  }
}
