package dev.atelier.kit.problem;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.runtime.configuration.MemorySize;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.Locale;
import java.util.Optional;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * Answers a body larger than {@code quarkus.http.limits.max-body-size} with a problem+json 413
 * naming the limit, where Quarkus answers a bare 413 with no body, which tells a client nothing.
 *
 * <p>A body that declares its length is judged by it, before any of it is read (this route runs
 * just before Quarkus' own check, order -2). A chunked body has no length to judge: it is read
 * here, up to the limit, by Vert.x's body handler (which the REST layer then reads from instead of
 * the connection), and one that passes the limit fails the route with 413, answered by the failure
 * handler below. Only chunked bodies are read here, so the usual request is not touched.
 */
@ApplicationScoped
public class BodyLimit {

  private static final Logger LOG = Logger.getLogger(BodyLimit.class);

  /** Marks a request whose chunked body this class reads. */
  private static final String READ_HERE = BodyLimit.class.getName() + ".chunked";

  private final Optional<MemorySize> maxBodySize;
  private final ObjectMapper mapper;

  BodyLimit(
      @ConfigProperty(name = "quarkus.http.limits.max-body-size") Optional<MemorySize> maxBodySize,
      ObjectMapper mapper) {
    this.maxBodySize = maxBodySize;
    this.mapper = mapper;
  }

  void register(@Observes Router router) {
    maxBodySize.ifPresent(
        max -> {
          BodyHandler chunked =
              BodyHandler.create(false)
                  .setBodyLimit(max.asLongValue())
                  .setMergeFormAttributes(false)
                  .setPreallocateBodyBuffer(false);
          router.route().order(-3).handler(ctx -> check(ctx, max, chunked));
          router
              .route()
              .order(-3)
              .failureHandler(
                  ctx -> {
                    if (ctx.get(READ_HERE) == null) {
                      ctx.next();
                    } else if (ctx.statusCode() == 413 && !ctx.response().headWritten()) {
                      refuse(ctx, "the request body is over the limit", max);
                    } else if (ctx.response().ended()) {
                      // The client closed the connection after the 413 (or we did): answered.
                      LOG.debugf(
                          "chunked request to %s ended after its answer", ctx.normalizedPath());
                    } else {
                      ctx.next();
                    }
                  });
        });
  }

  private void check(RoutingContext ctx, MemorySize max, BodyHandler chunked) {
    String length = ctx.request().getHeader(HttpHeaders.CONTENT_LENGTH);
    if (length == null && isChunked(ctx.request().getHeader(HttpHeaders.TRANSFER_ENCODING))) {
      ctx.put(READ_HERE, Boolean.TRUE);
      chunked.handle(ctx);
      return;
    }
    long declared = contentLength(length);
    if (declared <= max.asLongValue()) {
      ctx.next();
      return;
    }
    refuse(ctx, "the request body is " + declared + " bytes", max);
  }

  private void refuse(RoutingContext ctx, String what, MemorySize max) {
    Problem problem =
        new Problem(
            Problem.TYPE_BASE + "request-too-large",
            "Payload too large",
            413,
            what
                + "; the limit (quarkus.http.limits.max-body-size, HTTP_MAX_BODY_SIZE) is "
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

  private static boolean isChunked(String transferEncoding) {
    return transferEncoding != null
        && transferEncoding.toLowerCase(Locale.ROOT).contains("chunked");
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
