package dev.atelier.gateway.provider.openai;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.atelier.gateway.config.GatewayConfig;
import dev.atelier.gateway.provider.Completion;
import dev.atelier.gateway.provider.EmbeddingCall;
import dev.atelier.gateway.provider.Provider;
import dev.atelier.gateway.provider.ProviderCall;
import dev.atelier.gateway.provider.StreamEvent;
import dev.atelier.gateway.service.GatewayException;
import dev.atelier.gateway.service.Usage;
import dev.atelier.kit.tracing.TraceContexts;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.subscription.MultiEmitter;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.tracing.TracingPolicy;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.io.UncheckedIOException;
import java.net.URI;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Any OpenAI-compatible endpoint (OpenAI, Groq, Ollama, vLLM, ...), enabled when a provider key is
 * configured.
 *
 * <p>It uses the Vert.x core HTTP client rather than the Quarkus REST client: the call never blocks
 * a thread, a streamed answer is relayed chunk by chunk as the network delivers it (the REST client
 * would re-frame server-sent events), and the bytes of a plain answer go back to the caller
 * untouched. Vert.x's own tracing of this client is off; the provider opens the HTTP client span
 * itself, as a child of the call's {@code chat} span, and propagates it in {@code traceparent}
 * (never the caller's baggage).
 */
@ApplicationScoped
public class OpenAiCompatibleProvider implements Provider {

  public static final String NAME = "openai";
  private static final AttributeKey<String> HTTP_METHOD =
      AttributeKey.stringKey("http.request.method");
  private static final AttributeKey<Long> HTTP_STATUS =
      AttributeKey.longKey("http.response.status_code");
  private static final AttributeKey<String> SERVER_ADDRESS =
      AttributeKey.stringKey("server.address");
  private static final AttributeKey<Long> SERVER_PORT = AttributeKey.longKey("server.port");
  private static final AttributeKey<String> URL_FULL = AttributeKey.stringKey("url.full");
  private static final AttributeKey<String> ERROR_TYPE = AttributeKey.stringKey("error.type");

  private final String name;
  private final GatewayConfig.OpenAi config;
  private final ObjectMapper mapper;
  private final Tracer tracer;
  private final TraceContexts traces;
  private final Optional<String> apiKey;
  private final String authorization;
  private final String host;
  private final int port;
  private final boolean ssl;
  private final String path;
  private final String url;
  private final String embeddingsPath;
  private final String embeddingsUrl;
  private final String modelsPath;
  private final HttpClient client;

  @Inject
  OpenAiCompatibleProvider(
      GatewayConfig config,
      Vertx vertx,
      ObjectMapper mapper,
      OpenTelemetry openTelemetry,
      TraceContexts traces) {
    // A key read from a file (a Kubernetes Secret) often ends with a newline: never part of a key.
    this(
        NAME,
        config.openai().baseUrl(),
        config.openai().apiKey().map(String::strip).orElse(null),
        config.openai(),
        vertx,
        mapper,
        openTelemetry,
        traces);
  }

  /**
   * A named provider created at run time (through {@code /admin/providers}); {@link #close()} it
   * when it is replaced or removed.
   */
  public OpenAiCompatibleProvider(
      String name,
      String baseUrl,
      String apiKey,
      GatewayConfig.OpenAi config,
      Vertx vertx,
      ObjectMapper mapper,
      OpenTelemetry openTelemetry,
      TraceContexts traces) {
    this.name = name;
    this.config = config;
    this.mapper = mapper;
    this.tracer = openTelemetry.getTracer("dev.atelier.gateway");
    this.traces = traces;
    this.apiKey = Optional.ofNullable(apiKey).filter(k -> !k.isBlank());
    if (this.apiKey.isPresent() && !usableKey(this.apiKey.get())) {
      // Checked once here: Vert.x would otherwise refuse the header on every call with an
      // exception whose message is the header's value, the key, which then reaches the logs.
      throw new IllegalStateException(
          "the API key of provider '"
              + name
              + (NAME.equals(name) ? "' (OPENAI_API_KEY)" : "'")
              + " contains whitespace or control characters; it cannot be sent as a header");
    }
    this.authorization = this.apiKey.map(k -> "Bearer " + k).orElse(null);
    URI base = URI.create(baseUrl.replaceAll("/+$", ""));
    this.ssl = "https".equalsIgnoreCase(base.getScheme());
    this.host = base.getHost();
    this.port = base.getPort() > 0 ? base.getPort() : ssl ? 443 : 80;
    this.path = (base.getRawPath() == null ? "" : base.getRawPath()) + "/chat/completions";
    this.url = base + "/chat/completions";
    this.embeddingsPath = (base.getRawPath() == null ? "" : base.getRawPath()) + "/embeddings";
    this.embeddingsUrl = base + "/embeddings";
    this.modelsPath = (base.getRawPath() == null ? "" : base.getRawPath()) + "/models";
    this.client =
        this.apiKey.isEmpty()
            ? null
            : vertx.createHttpClient(
                new HttpClientOptions()
                    .setSsl(ssl)
                    .setKeepAlive(true)
                    .setKeepAliveTimeout(
                        (int) Math.max(1, this.config.keepAliveTimeout().toSeconds()))
                    .setMaxPoolSize(this.config.maxConnections())
                    .setConnectTimeout((int) this.config.connectTimeout().toMillis())
                    .setTracingPolicy(TracingPolicy.IGNORE));
  }

  @PreDestroy
  public void close() {
    if (client != null) {
      client.close();
    }
  }

  /**
   * Whether {@code key} can be sent as a bearer token: 1-4096 printable ASCII characters, no
   * whitespace or control characters (a header cannot carry them).
   */
  public static boolean usableKey(String key) {
    if (key == null || key.isEmpty() || key.length() > 4096) {
      return false;
    }
    for (int i = 0; i < key.length(); i++) {
      char c = key.charAt(i);
      if (c <= ' ' || c > '~') {
        return false;
      }
    }
    return true;
  }

  /** True when a provider key is configured. */
  public boolean enabled() {
    return apiKey.isPresent();
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public boolean simulated() {
    return false;
  }

  /** {@code GET {baseUrl}/models} with the provider's key: reachable, and does the key work. */
  @Override
  public Uni<Integer> probe(java.time.Duration timeout) {
    if (client == null) {
      return Uni.createFrom().failure(new IllegalStateException("no provider key configured"));
    }
    RequestOptions options =
        new RequestOptions()
            .setMethod(HttpMethod.GET)
            .setHost(host)
            .setPort(port)
            .setURI(modelsPath)
            .setTimeout(timeout.toMillis())
            .putHeader("Authorization", authorization);
    return Uni.createFrom()
        .completionStage(
            client
                .request(options)
                .compose(HttpClientRequest::send)
                // The status is all a probe needs: the body (a list of models) is discarded.
                .compose(res -> res.end().map(v -> res.statusCode()))
                .toCompletionStage());
  }

  @Override
  public Uni<Completion> complete(ProviderCall call) {
    return post(call.trace(), body(call), path, url, call.unanswered());
  }

  @Override
  public Uni<Completion> embed(EmbeddingCall call) {
    if (client == null) {
      throw new IllegalStateException("the openai provider has no API key configured");
    }
    byte[] body;
    try {
      body = mapper.writeValueAsBytes(call.forUpstream());
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
    return post(call.trace(), body, embeddingsPath, embeddingsUrl, call.unanswered());
  }

  /**
   * A plain (not streamed) POST of a JSON body, retried; answers the body as received. {@code
   * unanswered} runs for each attempt sent without an answer read.
   */
  private Uni<Completion> post(
      Context trace, byte[] body, String uri, String fullUrl, Runnable unanswered) {
    return retried(
        Uni.createFrom()
            .<Completion>emitter(
                em -> {
                  Span span = httpSpan(trace, fullUrl);
                  AtomicReference<HttpClientRequest> sent = new AtomicReference<>();
                  AtomicBoolean done = new AtomicBoolean();
                  em.onTermination(
                      () -> {
                        // done first, then sent: send() below checks them in the other order,
                        // so a request is either never sent or reset here.
                        if (done.compareAndSet(false, true)) {
                          HttpClientRequest r = sent.get();
                          if (r != null) {
                            r.reset(); // the caller went away: stop the provider's work
                          }
                          endSpan(span, null, null);
                        }
                      });
                  client
                      .request(options(span, uri, "application/json"))
                      .compose(req -> send(req, body, sent, done))
                      .compose(
                          resp ->
                              resp.statusCode() >= 400
                                  // An error is read for its message, else answered without one.
                                  ? bodyAtMost(resp, MAX_ERROR_BODY_BYTES)
                                      .recover(t -> Future.succeededFuture(Buffer.buffer()))
                                      .map(b -> new Answer(resp, b))
                                  : bodyAtMost(resp, config.maxResponseBytes())
                                      .map(b -> new Answer(resp, b)))
                      .onComplete(
                          ar -> {
                            if (!done.compareAndSet(false, true)) {
                              return;
                            }
                            if (ar.failed()) {
                              GatewayException g = UpstreamErrors.fromFailure(ar.cause());
                              if (sent.get() != null) {
                                unanswered.run(); // the provider has the request
                              }
                              endSpan(span, null, g);
                              em.fail(g);
                              return;
                            }
                            Answer a = ar.result();
                            int status = a.response.statusCode();
                            if (status >= 400) {
                              GatewayException g =
                                  UpstreamErrors.fromResponse(
                                      mapper,
                                      status,
                                      a.body.getBytes(),
                                      a.response.getHeader("Retry-After"));
                              endSpan(span, status, g);
                              em.fail(g);
                              return;
                            }
                            endSpan(span, status, null);
                            try {
                              em.complete(completion(a.body.getBytes()));
                            } catch (GatewayException g) {
                              em.fail(g);
                            }
                          });
                }));
  }

  private record Answer(HttpClientResponse response, Buffer body) {}

  /** An error answer is read for its message; past this it is read as having none. */
  private static final long MAX_ERROR_BODY_BYTES = 65_536;

  /**
   * The response's body, or a failure with {@link #tooLarge} (the request reset, so the provider
   * stops sending) once it passes {@code max} bytes.
   */
  private static Future<Buffer> bodyAtMost(HttpClientResponse resp, long max) {
    String length = resp.getHeader("Content-Length");
    if (length != null && length.matches("[0-9]{1,18}") && Long.parseLong(length) > max) {
      Future<Buffer> refused = Future.failedFuture(tooLarge(max, "an answer"));
      resp.request().reset();
      return refused;
    }
    Promise<Buffer> promise = Promise.promise();
    Buffer body = Buffer.buffer();
    resp.handler(
        chunk -> {
          if (promise.future().isComplete()) {
            return;
          }
          if (body.length() + (long) chunk.length() > max) {
            promise.tryFail(tooLarge(max, "an answer"));
            resp.request().reset();
            return;
          }
          body.appendBuffer(chunk);
        });
    resp.exceptionHandler(promise::tryFail);
    resp.endHandler(v -> promise.tryComplete(body));
    return promise.future();
  }

  /** Not retryable: the provider did (and billed) the work, and would answer the same again. */
  private static GatewayException tooLarge(long max, String what) {
    return new GatewayException(
        502,
        GatewayException.UPSTREAM,
        "provider_response_too_large",
        null,
        "The provider sent " + what + " larger than " + max + " bytes (OPENAI_MAX_RESPONSE_BYTES)",
        true,
        false,
        null,
        null);
  }

  /**
   * Sends a request that got its connection, unless the caller went away while it waited for one
   * (the pool was busy): the provider would do, and bill, work whose answer nobody reads.
   */
  private static Future<HttpClientResponse> send(
      HttpClientRequest req,
      byte[] body,
      AtomicReference<HttpClientRequest> sent,
      AtomicBoolean done) {
    sent.set(req);
    if (done.get()) {
      req.reset();
      return Future.failedFuture(new CancellationException("the caller went away"));
    }
    return req.send(Buffer.buffer(body));
  }

  @Override
  public Multi<StreamEvent> stream(ProviderCall call) {
    byte[] body = body(call);
    Multi<StreamEvent> attempt = Multi.createFrom().emitter(em -> streamOnce(call, body, em));
    int retries = config.maxRetries();
    if (retries <= 0) {
      return attempt;
    }
    // A failure after the first event is never retryable (see streamOnce), so a retry can never
    // repeat content the caller already received.
    return attempt
        .onFailure(t -> t instanceof GatewayException g && g.retryable())
        .retry()
        .withBackOff(config.retryBackoff(), config.retryBackoff().multipliedBy(8))
        .withJitter(0.2)
        .atMost(retries);
  }

  private void streamOnce(ProviderCall call, byte[] body, MultiEmitter<? super StreamEvent> em) {
    Span span = httpSpan(call.trace(), url);
    AtomicReference<HttpClientRequest> sent = new AtomicReference<>();
    AtomicBoolean emitted = new AtomicBoolean();
    AtomicBoolean done = new AtomicBoolean();
    em.onTermination(
        () -> {
          if (done.compareAndSet(false, true)) {
            HttpClientRequest r = sent.get();
            if (r != null) {
              r.reset(); // the caller went away: stop the provider generating (and billing)
            }
            endSpan(span, null, null);
          }
        });
    client
        .request(
            options(span, path, call.request().stream() ? "text/event-stream" : "application/json"))
        .compose(req -> send(req, body, sent, done))
        .onComplete(
            ar -> {
              if (ar.failed()) {
                if (done.compareAndSet(false, true)) {
                  GatewayException g = UpstreamErrors.fromFailure(ar.cause());
                  if (sent.get() != null) {
                    call.unanswered().run(); // the provider has the request
                  }
                  endSpan(span, null, g);
                  em.fail(g);
                }
                return;
              }
              HttpClientResponse resp = ar.result();
              int status = resp.statusCode();
              if (status >= 400) {
                bodyAtMost(resp, MAX_ERROR_BODY_BYTES)
                    .onComplete(
                        b -> {
                          GatewayException g =
                              UpstreamErrors.fromResponse(
                                  mapper,
                                  status,
                                  b.succeeded() ? b.result().getBytes() : new byte[0],
                                  resp.getHeader("Retry-After"));
                          if (done.compareAndSet(false, true)) {
                            endSpan(span, status, g);
                            em.fail(g);
                          }
                        });
                return;
              }
              SseSplitter splitter = new SseSplitter(config.maxResponseBytes());
              // Backpressure: once the events read exceed what the caller has asked for, the
              // provider's connection is paused (TCP then slows the provider) until it asks again.
              // Both on the connection's own thread: a Vert.x stream is not thread-safe, and
              // the caller asks for more from its own connection's thread. A request first takes
              // the events already read (the emitter's buffer): only demand left after them, so
              // with that buffer empty, reads on.
              io.vertx.core.Context connection = Vertx.currentContext();
              em.onRequest(
                  n ->
                      connection.runOnContext(
                          v -> {
                            if (em.requested() > 0) {
                              resp.resume();
                            }
                          }));
              resp.handler(
                  buf -> {
                    List<String> events;
                    try {
                      events = splitter.feed(buf.getBytes());
                    } catch (SseSplitter.EventTooLarge e) {
                      // Failed first: the reset reaches the exception handler below at once, which
                      // would fail the call as a (retryable) broken connection.
                      if (done.compareAndSet(false, true)) {
                        GatewayException g = tooLarge(config.maxResponseBytes(), "a stream event");
                        if (!emitted.get()) {
                          call.unanswered().run(); // else the call's record counts its prompt
                        }
                        endSpan(span, status, g);
                        em.fail(g);
                      }
                      resp.request().reset();
                      return;
                    }
                    for (String data : events) {
                      relay(data, em, emitted);
                    }
                    if (em.requested() <= 0) {
                      resp.pause();
                      // A request that came in between the check and the pause must not be lost.
                      if (em.requested() > 0) {
                        resp.resume();
                      }
                    }
                  });
              resp.exceptionHandler(
                  t -> {
                    if (done.compareAndSet(false, true)) {
                      GatewayException g = UpstreamErrors.fromFailure(t);
                      if (!emitted.get()) {
                        call.unanswered().run(); // else the call's record counts its prompt
                      }
                      endSpan(span, status, g);
                      em.fail(emitted.get() ? notRetryable(g) : g);
                    }
                  });
              resp.endHandler(
                  v -> {
                    for (String data : splitter.finish()) {
                      relay(data, em, emitted);
                    }
                    if (done.compareAndSet(false, true)) {
                      endSpan(span, status, null);
                      em.complete();
                    }
                  });
            });
  }

  private void relay(String data, MultiEmitter<? super StreamEvent> em, AtomicBoolean emitted) {
    String trimmed = data.trim();
    if (trimmed.isEmpty() || "[DONE]".equals(trimmed)) {
      return; // the gateway sends its own [DONE] once the call is accounted for
    }
    JsonNode json;
    try {
      json = mapper.readTree(trimmed);
    } catch (JsonProcessingException e) {
      em.fail(
          notRetryable(
              new GatewayException(
                  502,
                  GatewayException.UPSTREAM,
                  "provider_bad_stream",
                  null,
                  "The provider sent an unreadable stream event",
                  true,
                  false,
                  null,
                  e)));
      return;
    }
    if (json.has("error") && !json.has("choices")) {
      JsonNode error = json.get("error");
      em.fail(
          new GatewayException(
              502,
              GatewayException.UPSTREAM,
              error.path("code").isTextual() ? error.get("code").asText() : "provider_stream_error",
              null,
              "The provider failed mid-stream: " + error.path("message").asText("unknown error"),
              true,
              false,
              null,
              null));
      return;
    }
    emitted.set(true);
    em.emit(new StreamEvent(trimmed, json));
  }

  private static GatewayException notRetryable(GatewayException g) {
    return g.retryable()
        ? new GatewayException(
            g.status(), g.type(), g.code(), g.param(), g.getMessage(), true, false, null, g)
        : g;
  }

  private Uni<Completion> retried(Uni<Completion> once) {
    int retries = config.maxRetries();
    if (retries <= 0) {
      return once;
    }
    return once.onFailure(t -> t instanceof GatewayException g && g.retryable())
        .retry()
        .withBackOff(config.retryBackoff(), config.retryBackoff().multipliedBy(8))
        .withJitter(0.2)
        .atMost(retries);
  }

  /**
   * Reads what metering needs (id, model, usage, the first choice's finish reason) with a streaming
   * parser, skipping the choices' text: a whole tree of every answer was a visible share of a
   * call's CPU and allocation. The body itself goes to the caller unchanged.
   */
  private Completion completion(byte[] body) {
    try (JsonParser p = mapper.getFactory().createParser(body)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw notAnObject();
      }
      String id = null;
      String model = null;
      String finishReason = null;
      Optional<Usage> usage = Optional.empty();
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String field = p.currentName();
        JsonToken value = p.nextToken();
        switch (field) {
          case "id" -> id = value == JsonToken.VALUE_STRING ? p.getText() : skip(p);
          case "model" -> model = value == JsonToken.VALUE_STRING ? p.getText() : skip(p);
          case "usage" -> usage = Usage.fromOpenAi(mapper.readTree(p));
          case "choices" -> finishReason = firstFinishReason(p);
          default -> p.skipChildren();
        }
      }
      return new Completion(body, usage, model, id, finishReason, null);
    } catch (java.io.IOException e) {
      throw notAnObject();
    }
  }

  /**
   * The {@code finish_reason} of the first element of the array the parser is at; skips the rest.
   */
  private static String firstFinishReason(JsonParser p) throws java.io.IOException {
    if (p.currentToken() != JsonToken.START_ARRAY) {
      p.skipChildren();
      return null;
    }
    String reason = null;
    boolean first = true;
    while (p.nextToken() != JsonToken.END_ARRAY) {
      if (first && p.currentToken() == JsonToken.START_OBJECT) {
        while (p.nextToken() == JsonToken.FIELD_NAME) {
          String field = p.currentName();
          JsonToken value = p.nextToken();
          if ("finish_reason".equals(field) && value == JsonToken.VALUE_STRING) {
            reason = p.getText();
          } else {
            p.skipChildren();
          }
        }
      } else {
        p.skipChildren();
      }
      first = false;
    }
    return reason;
  }

  private static String skip(JsonParser p) throws java.io.IOException {
    p.skipChildren();
    return null;
  }

  private static GatewayException notAnObject() {
    return new GatewayException(
        502,
        GatewayException.UPSTREAM,
        "provider_bad_response",
        null,
        "The provider returned a response that is not a JSON object",
        true,
        false,
        null,
        null);
  }

  private byte[] body(ProviderCall call) {
    if (client == null) {
      throw new IllegalStateException("the openai provider has no API key configured");
    }
    return call.request().upstreamBody(mapper, call.upstreamModel());
  }

  private RequestOptions options(Span span, String uri, String accept) {
    RequestOptions options =
        new RequestOptions()
            .setMethod(HttpMethod.POST)
            .setHost(host)
            .setPort(port)
            .setSsl(ssl)
            .setURI(uri)
            .setIdleTimeout(config.timeout().toMillis())
            .putHeader("Content-Type", "application/json")
            .putHeader("Accept", accept)
            .putHeader("Authorization", authorization);
    // The span alone, not the caller's context: the provider is outside Atelier, and the caller's
    // W3C baggage (its team, workflow, anything it propagates internally) must not reach it.
    Map<String, Object> carrier = new HashMap<>();
    traces.inject(Context.root().with(span), carrier);
    carrier.forEach((k, v) -> options.putHeader(k, String.valueOf(v)));
    return options;
  }

  private Span httpSpan(Context trace, String fullUrl) {
    return tracer
        .spanBuilder("POST")
        .setParent(trace)
        .setSpanKind(SpanKind.CLIENT)
        .setAttribute(HTTP_METHOD, "POST")
        .setAttribute(SERVER_ADDRESS, host)
        .setAttribute(SERVER_PORT, (long) port)
        .setAttribute(URL_FULL, fullUrl)
        .startSpan();
  }

  private static void endSpan(Span span, Integer status, GatewayException error) {
    if (status != null) {
      span.setAttribute(HTTP_STATUS, (long) status);
    }
    if (error != null) {
      span.setAttribute(ERROR_TYPE, status != null ? String.valueOf(status) : error.code());
      span.setStatus(StatusCode.ERROR, error.getMessage());
    }
    span.end();
  }
}
