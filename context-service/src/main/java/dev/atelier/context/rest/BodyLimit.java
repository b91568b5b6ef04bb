package dev.atelier.context.rest;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.atelier.kit.problem.Problem;
import io.quarkus.runtime.configuration.MemorySize;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.Optional;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Answers a body declared larger than {@code quarkus.http.limits.max-body-size} with a problem+json
 * 413 naming the limit. Quarkus' own check (route order -2) answers a bare 413 with no body, which
 * tells a client nothing; this route runs just before it.
 */
@ApplicationScoped
public class BodyLimit {

  private final Optional<MemorySize> maxBodySize;
  private final ObjectMapper mapper;

  BodyLimit(
      @ConfigProperty(name = "quarkus.http.limits.max-body-size") Optional<MemorySize> maxBodySize,
      ObjectMapper mapper) {
    this.maxBodySize = maxBodySize;
    this.mapper = mapper;
  }

  void register(@Observes Router router) {
    maxBodySize.ifPresent(max -> router.route().order(-3).handler(ctx -> check(ctx, max)));
  }

  private void check(RoutingContext ctx, MemorySize max) {
    long declared = contentLength(ctx.request().getHeader(HttpHeaders.CONTENT_LENGTH));
    if (declared <= max.asLongValue()) {
      ctx.next();
      return;
    }
    Problem problem =
        new Problem(
            Problem.TYPE_BASE + "request-too-large",
            "Payload too large",
            413,
            "the request body is "
                + declared
                + " bytes; the limit (quarkus.http.limits.max-body-size, HTTP_MAX_BODY_SIZE) is "
                + max.asLongValue()
                + " bytes",
            ctx.request().path(),
            null);
    String body;
    try {
      body = mapper.writeValueAsString(problem);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a Problem always serialises", e);
    }
    // As Quarkus does: close the connection rather than read a body that is not wanted.
    ctx.response()
        .setStatusCode(413)
        .putHeader(HttpHeaders.CONTENT_TYPE, Problem.MEDIA_TYPE)
        .putHeader(HttpHeaders.CONNECTION, "close")
        .endHandler(v -> ctx.request().connection().close())
        .end(body);
  }

  private static long contentLength(String header) {
    if (header == null) {
      return -1;
    }
    try {
      return Long.parseLong(header.strip());
    } catch (NumberFormatException e) {
      return -1; // not ours to judge: Vert.x refuses a malformed length
    }
  }
}
