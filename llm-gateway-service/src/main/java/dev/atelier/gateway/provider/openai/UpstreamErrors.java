package dev.atelier.gateway.provider.openai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.atelier.gateway.service.GatewayException;
import io.netty.handler.timeout.TimeoutException;
import io.vertx.core.VertxException;
import java.io.IOException;
import java.net.ConnectException;
import java.time.Duration;

/**
 * Turns a provider's failure into what the caller sees. Caller errors (400, 404, 409, 413, 422)
 * keep their status and the provider's message; the gateway's own credentials being refused (401,
 * 403) is the gateway's fault and becomes a 502 that does not repeat the provider's message (it may
 * quote part of the key); 429 stays 429; 5xx becomes 502 and unreachable becomes 503. Only 429, 5xx
 * and connection failures are worth retrying.
 */
final class UpstreamErrors {

  private UpstreamErrors() {}

  static GatewayException fromResponse(
      ObjectMapper mapper, int status, byte[] body, String retryAfter) {
    JsonNode error = null;
    try {
      JsonNode tree = mapper.readTree(body);
      error = tree == null ? null : tree.get("error");
    } catch (IOException | RuntimeException e) {
      // not JSON: described by its status below
    }
    String message =
        error != null && error.path("message").isTextual()
            ? error.get("message").asText()
            : "The provider answered HTTP " + status;
    String type =
        error != null && error.path("type").isTextual() ? error.get("type").asText() : null;
    String code =
        error != null && error.path("code").isTextual() ? error.get("code").asText() : null;
    String param =
        error != null && error.path("param").isTextual() ? error.get("param").asText() : null;
    if (status == 401 || status == 403) {
      return new GatewayException(
          502,
          GatewayException.UPSTREAM,
          "provider_authentication_failed",
          null,
          "The provider refused the gateway's credentials (HTTP " + status + ")",
          true,
          false,
          null,
          null);
    }
    if (status == 429) {
      return new GatewayException(
          429,
          type != null ? type : GatewayException.RATE_LIMIT,
          code != null ? code : "rate_limit_exceeded",
          param,
          message,
          true,
          true,
          parseRetryAfter(retryAfter),
          null);
    }
    if (status >= 500) {
      return new GatewayException(
          502,
          GatewayException.UPSTREAM,
          code != null ? code : "provider_error",
          null,
          "The provider failed (HTTP " + status + "): " + message,
          true,
          true,
          null,
          null);
    }
    return new GatewayException(
        status,
        type != null ? type : GatewayException.INVALID_REQUEST,
        code,
        param,
        message,
        true,
        false,
        null,
        null);
  }

  static GatewayException fromFailure(Throwable t) {
    if (t instanceof GatewayException g) {
      return g;
    }
    boolean timeout =
        t instanceof TimeoutException
            || t instanceof java.util.concurrent.TimeoutException
            || (t instanceof VertxException && String.valueOf(t.getMessage()).contains("timeout"))
            || String.valueOf(t.getMessage()).toLowerCase().contains("timeout");
    String what =
        timeout ? "timed out" : t instanceof ConnectException ? "is unreachable" : "failed";
    return new GatewayException(
        503,
        GatewayException.UPSTREAM,
        timeout ? "provider_timeout" : "provider_unavailable",
        null,
        "The provider " + what,
        true,
        true,
        null,
        t);
  }

  /**
   * A provider's {@code Retry-After} (seconds or an HTTP date), at most {@link #MAX_RETRY_AFTER}: a
   * provider asking for years (or more than an {@code Instant} holds) would take its deployment out
   * of routing until a restart.
   */
  /** Longest cooldown a provider's {@code Retry-After} sets. */
  static final Duration MAX_RETRY_AFTER = Duration.ofHours(1);

  static Duration parseRetryAfter(String value) {
    Duration asked = retryAfter(value);
    return asked == null || asked.compareTo(MAX_RETRY_AFTER) <= 0 ? asked : MAX_RETRY_AFTER;
  }

  private static Duration retryAfter(String value) {
    if (value == null || value.isBlank()) {
      return null;
    }
    try {
      return Duration.ofSeconds(Math.max(0, Long.parseLong(value.trim())));
    } catch (NumberFormatException e) {
      // Too large for a long: the most, clamped above. Else RFC 9110 also allows an HTTP date.
      if (value.trim().matches("[0-9]+")) {
        return MAX_RETRY_AFTER;
      }
    }
    try {
      java.time.Instant at =
          java.time.ZonedDateTime.parse(
                  value.trim(), java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME)
              .toInstant();
      Duration d = Duration.between(java.time.Instant.now(), at);
      return d.isNegative() ? Duration.ZERO : d;
    } catch (java.time.format.DateTimeParseException e) {
      return null;
    }
  }
}
