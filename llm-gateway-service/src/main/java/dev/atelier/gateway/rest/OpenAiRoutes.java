package dev.atelier.gateway.rest;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.atelier.contracts.Headers;
import dev.atelier.gateway.budget.BudgetService;
import dev.atelier.gateway.config.GatewayConfig;
import dev.atelier.gateway.idempotency.IdempotentCalls;
import dev.atelier.gateway.pricing.Price;
import dev.atelier.gateway.pricing.PriceCatalog;
import dev.atelier.gateway.provider.Completion;
import dev.atelier.gateway.provider.ProviderRouter;
import dev.atelier.gateway.provider.Route;
import dev.atelier.gateway.service.ApiKeys;
import dev.atelier.gateway.service.Attribution;
import dev.atelier.gateway.service.BoundedJson;
import dev.atelier.gateway.service.ChatCall;
import dev.atelier.gateway.service.ChatRequest;
import dev.atelier.gateway.service.ChatService;
import dev.atelier.gateway.service.EmbeddingService;
import dev.atelier.gateway.service.GatewayException;
import dev.atelier.gateway.service.WorkflowBudgetHeader;
import io.opentelemetry.context.Context;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import io.smallrye.mutiny.subscription.MultiSubscriber;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.math.BigDecimal;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Flow;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.jboss.logging.Logger;

/**
 * The OpenAI-compatible API: {@code POST /v1/chat/completions} (plain and streamed), {@code GET
 * /v1/models}, {@code POST /v1/embeddings}.
 *
 * <p>These are Vert.x routes rather than JAX-RS resources because the gateway needs byte-level
 * control of the answer: a provider's body is returned unchanged, a stream is written event by
 * event as {@code data: ...} lines exactly as OpenAI frames them, the HTTP status of a stream is
 * decided only when its first event (or its failure) arrives, and every error, including a
 * too-large body, is in OpenAI's error shape rather than problem+json.
 */
@ApplicationScoped
public class OpenAiRoutes {

  private static final Logger LOG = Logger.getLogger(OpenAiRoutes.class);
  static final String CALL_ID_HEADER = "X-Atelier-Call-Id";

  /** On an answer repeated from an earlier call with the same {@code Idempotency-Key}. */
  static final String REPLAYED_HEADER = "Idempotent-Replayed";

  /** The request's Vert.x context, kept on the routing context across a worker-thread hop. */
  private static final String EVENT_LOOP = "atelier.event-loop";

  private final ApiKeys apiKeys;
  private final ChatService chats;
  private final EmbeddingService embeddings;
  private final ProviderRouter router;
  private final PriceCatalog prices;
  private final IdempotentCalls idempotent;
  private final ObjectMapper mapper;
  private final BoundedJson chatParser;
  private final long maxRequestBytes;
  private final long offloadAboveBytes;

  OpenAiRoutes(
      ApiKeys apiKeys,
      ChatService chats,
      EmbeddingService embeddings,
      ProviderRouter router,
      PriceCatalog prices,
      IdempotentCalls idempotent,
      ObjectMapper mapper,
      GatewayConfig config) {
    this.apiKeys = apiKeys;
    this.chats = chats;
    this.embeddings = embeddings;
    this.router = router;
    this.prices = prices;
    this.idempotent = idempotent;
    this.mapper = mapper;
    this.chatParser = ChatRequest.parser(mapper);
    this.maxRequestBytes = config.limits().maxRequestBytes();
    this.offloadAboveBytes = config.limits().offloadAboveBytes();
  }

  void register(@Observes Router http) {
    http.route("/v1/*").handler(BodyHandler.create(false).setBodyLimit(maxRequestBytes));
    http.post("/v1/chat/completions").handler(this::chat);
    http.get("/v1/models").handler(this::models);
    http.post("/v1/embeddings").handler(this::embeddings);
    http.route("/v1/*")
        .handler(
            rc ->
                OpenAiErrors.write(
                    rc.response(),
                    new GatewayException(
                        404,
                        GatewayException.INVALID_REQUEST,
                        "unknown_url",
                        null,
                        "Invalid URL (" + rc.request().method() + " " + rc.request().path() + ")",
                        false,
                        false,
                        null,
                        null)));
    http.route("/v1/*").failureHandler(this::failure);
  }

  /** {@code POST /v1/chat/completions}. */
  void chat(RoutingContext rc) {
    // The server span is current on the event loop only: carry it explicitly past any thread hop.
    Context parent = Context.current();
    rc.put(EVENT_LOOP, io.vertx.core.Vertx.currentContext());
    Buffer body = rc.body().buffer();
    offWhenLarge(body, () -> chat(rc, parent, body));
  }

  /**
   * Runs {@code handling} on a worker thread when {@code body} is large, here (the event loop)
   * otherwise: parsing and counting a large body would hold the event loop for milliseconds.
   */
  private void offWhenLarge(Buffer body, Runnable handling) {
    if (body != null && body.length() > offloadAboveBytes) {
      Infrastructure.getDefaultWorkerPool().execute(handling);
    } else {
      handling.run();
    }
  }

  private void chat(RoutingContext rc, Context parent, Buffer body) {
    try {
      String team =
          apiKeys.authenticate(
              rc.request().getHeader(HttpHeaders.AUTHORIZATION),
              rc.request().getHeader(Headers.TEAM));
      String key = idempotencyKey(rc);
      if (body == null || body.length() == 0) {
        throw GatewayException.invalid("invalid_json", null, "The request body is empty");
      }
      if (body.length() > maxRequestBytes) {
        throw GatewayException.tooLarge(maxRequestBytes);
      }
      byte[] bytes = body.getBytes();
      ChatRequest request = ChatRequest.parse(chatParser, bytes);
      Attribution attribution = Attribution.from(rc.request()::getHeader);
      BigDecimal workflowBudget =
          WorkflowBudgetHeader.parse(rc.request()::getHeader, attribution.workflowId());
      if (key == null) {
        start(rc, parent, request, team, attribution, workflowBudget, null);
        return;
      }
      if (request.stream()) {
        throw GatewayException.invalid(
            "unsupported_idempotency_key",
            "stream",
            "An Idempotency-Key is honoured on calls that are not streamed; send the stream"
                + " without it");
      }
      keyed(
          rc,
          team,
          key,
          bytes,
          claim -> start(rc, parent, request, team, attribution, workflowBudget, claim));
    } catch (GatewayException e) {
      OpenAiErrors.write(rc.response(), e);
    } catch (RuntimeException e) {
      LOG.errorf(e, "chat request failed");
      OpenAiErrors.write(rc.response(), internal());
    }
  }

  private void start(
      RoutingContext rc,
      Context parent,
      ChatRequest request,
      String team,
      Attribution attribution,
      BigDecimal workflowBudget,
      IdempotentCalls.Claimed claim) {
    ChatCall call = null;
    try {
      call = chats.start(request, team, attribution, parent);
      call.claim(claim);
      rc.response().putHeader(CALL_ID_HEADER, call.id().toString());
      if (chats.budgeted(call, workflowBudget)) {
        // Reserving is a database transaction: never on the event loop.
        ChatCall budgeted = call;
        Infrastructure.getDefaultWorkerPool()
            .execute(() -> reserveThenSend(rc, budgeted, workflowBudget));
      } else {
        send(rc, call);
      }
    } catch (RuntimeException e) {
      fail(rc, call, claim, e);
    }
  }

  /**
   * Ends a call that cannot go on: the call (when started) abandoned, so its span ends and its
   * reservation is released; its key freed; the caller answered with the error, or a 500 for a
   * failure that is not a {@link GatewayException} (logged).
   */
  private void fail(
      RoutingContext rc, ChatCall call, IdempotentCalls.Claimed claim, RuntimeException e) {
    GatewayException error;
    if (e instanceof GatewayException g) {
      error = g;
    } else {
      LOG.errorf(e, "%s request failed", call == null ? "embeddings" : "chat");
      error = internal();
    }
    if (call != null) {
      chats.abandon(call, error);
    }
    unclaim(claim);
    OpenAiErrors.write(rc.response(), error);
  }

  /** The request's {@code Idempotency-Key}, or null. */
  private static String idempotencyKey(RoutingContext rc) {
    try {
      return IdempotentCalls.key(rc.request().getHeader(Headers.IDEMPOTENCY_KEY));
    } catch (IllegalArgumentException e) {
      throw GatewayException.invalid("invalid_idempotency_key", null, e.getMessage());
    }
  }

  /**
   * Makes the call with {@code key} when it is this request's to make ({@code call}), or answers a
   * repeat: the earlier call's answer, 409 while it runs, 422 when the key was used for another
   * body. The key is looked up on a worker thread (database).
   */
  private void keyed(
      RoutingContext rc,
      String team,
      String key,
      byte[] body,
      Consumer<IdempotentCalls.Claimed> call) {
    // Hashing a body of megabytes takes milliseconds: on the worker thread, not the event loop.
    Infrastructure.getDefaultWorkerPool()
        .execute(() -> claimThen(rc, team, key, IdempotentCalls.sha256(body), call));
  }

  private void claimThen(
      RoutingContext rc,
      String team,
      String key,
      byte[] sha256,
      Consumer<IdempotentCalls.Claimed> call) {
    HttpServerResponse response = rc.response();
    IdempotentCalls.Begun begun;
    try {
      begun = idempotent.begin(team, key, sha256);
    } catch (SQLException | RuntimeException e) {
      LOG.errorf(e, "could not look up an Idempotency-Key");
      OpenAiErrors.write(
          response,
          new GatewayException(
              503,
              GatewayException.SERVER,
              "idempotency_unavailable",
              null,
              "The gateway cannot look up the Idempotency-Key now (its database is unavailable);"
                  + " nothing was called. Try again",
              false,
              true,
              Duration.ofSeconds(1),
              null));
      return;
    }
    if (begun instanceof IdempotentCalls.Claimed claim) {
      // On with the call where an unkeyed one runs: the request's event loop.
      io.vertx.core.Context loop = rc.get(EVENT_LOOP);
      loop.runOnContext(v -> call.accept(claim));
    } else if (begun instanceof IdempotentCalls.Replay replay) {
      if (replay.callId() != null) {
        response.putHeader(CALL_ID_HEADER, replay.callId().toString());
      }
      response
          .putHeader(REPLAYED_HEADER, "true")
          .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
          .end(Buffer.buffer(replay.answer()));
    } else if (begun instanceof IdempotentCalls.InUse inUse) {
      OpenAiErrors.write(
          response,
          new GatewayException(
              409,
              GatewayException.INVALID_REQUEST,
              "idempotency_key_in_use",
              null,
              "A call with this Idempotency-Key is still running; repeat the request once it has"
                  + " answered",
              false,
              true,
              inUse.retryAfter(),
              null));
    } else {
      OpenAiErrors.write(
          response,
          new GatewayException(
              422,
              GatewayException.INVALID_REQUEST,
              "idempotency_key_reused",
              null,
              "This Idempotency-Key was used for a call with a different request body; a new call"
                  + " needs a new key",
              false,
              false,
              null,
              null));
    }
  }

  /** Frees the key of a call that will not be made or failed (a repeat then makes it). */
  private static void unclaim(IdempotentCalls.Claimed claim) {
    if (claim != null) {
      settle(claim::failed);
    }
  }

  /**
   * Settles a key on a worker thread (a database write). Refused while the gateway stops: the key
   * is then taken over after the takeover time, as if this replica had died.
   */
  private static void settle(Runnable write) {
    try {
      Infrastructure.getDefaultWorkerPool().execute(write);
    } catch (RejectedExecutionException e) {
      LOG.warnf("an Idempotency-Key could not be settled while the gateway stops");
    }
  }

  private void send(RoutingContext rc, ChatCall call) {
    if (call.request().stream()) {
      stream(rc, call);
    } else {
      complete(rc, call);
    }
  }

  private void reserveThenSend(RoutingContext rc, ChatCall call, BigDecimal workflowBudget) {
    try {
      chats.reserve(call, workflowBudget);
    } catch (GatewayException e) {
      if (!BudgetService.BUDGET_EXCEEDED.equals(e.code())) {
        fail(rc, call, call.claim(), e);
        return;
      }
      // A rejection by budget is a call outcome: it is recorded, unlike a malformed request.
      chats.reject(call, e);
      unclaim(call.claim());
      OpenAiErrors.write(rc.response(), e);
      return;
    } catch (RuntimeException e) {
      fail(rc, call, call.claim(), e);
      return;
    }
    try {
      send(rc, call);
    } catch (RuntimeException e) {
      // Thrown before the call had a Uni (a provider that cannot build the request): on this
      // worker thread nothing else would answer the caller or end the call.
      fail(rc, call, call.claim(), e);
    }
  }

  /**
   * Answers a non-streamed call. A caller that hangs up meanwhile does not end the provider's call:
   * a provider finishes (and bills) an answer whose request was sent, so the call runs to its end
   * and is recorded with the usage the provider reports, the answer discarded. Cancelled, it was
   * recorded with the prompt alone.
   */
  private void complete(RoutingContext rc, ChatCall call) {
    HttpServerResponse response = rc.response();
    if (callerGone(response, call)) {
      return;
    }
    relay(chats.complete(call).map(Completion::body), response, call.claim(), call.id());
  }

  /**
   * Writes the JSON answer when it comes, or its error, to a caller still there; one gone is
   * answered no more (the call ran to its end and was recorded all the same).
   */
  private static void relay(
      Uni<byte[]> answer, HttpServerResponse response, IdempotentCalls.Claimed claim, UUID callId) {
    answer
        .subscribe()
        .with(
            body -> {
              try {
                if (!response.ended() && !response.closed()) {
                  response
                      .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
                      .end(Buffer.buffer(body));
                }
              } finally {
                if (claim != null) {
                  // Kept even when the caller is gone (its repeat is what the key is for), and
                  // when writing to it failed: an unsettled claim is renewed while this runs.
                  settle(() -> claim.answered(body, callId));
                }
              }
            },
            failure -> {
              unclaim(claim);
              OpenAiErrors.write(response, asGatewayError(failure));
            });
  }

  /**
   * Relays a streamed answer as server-sent events, one event requested at a time: the next is
   * asked for only once the last one is written or, when the caller reads slower than the provider
   * sends (the response's write queue is full), once that queue has drained. The demand reaches the
   * provider's connection, which is paused meanwhile, so a slow reader holds one network read of
   * events in the gateway, not the whole answer.
   */
  private void stream(RoutingContext rc, ChatCall call) {
    HttpServerResponse response = rc.response();
    AtomicReference<Flow.Subscription> subscription = new AtomicReference<>();
    AtomicBoolean gone = new AtomicBoolean();
    response.closeHandler(
        v -> {
          gone.set(true);
          Flow.Subscription s = subscription.get();
          if (s != null) {
            s.cancel();
          }
        });
    if (callerGone(response, call)) {
      return;
    }
    chats.stream(call).subscribe().withSubscriber(new EventWriter(response, subscription));
    Flow.Subscription s = subscription.get();
    if (gone.get() && s != null) {
      s.cancel();
    }
  }

  /** Writes a stream's events to the caller, asking for the next when the caller can take it. */
  private static final class EventWriter implements MultiSubscriber<String> {
    private final HttpServerResponse response;
    private final AtomicReference<Flow.Subscription> subscription;
    private boolean started;

    EventWriter(HttpServerResponse response, AtomicReference<Flow.Subscription> subscription) {
      this.response = response;
      this.subscription = subscription;
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
      subscription.set(s);
      s.request(1);
    }

    @Override
    public void onItem(String data) {
      if (response.closed() || response.ended()) {
        return;
      }
      if (!started) {
        started = true;
        response
            .setChunked(true)
            .putHeader(HttpHeaders.CONTENT_TYPE, "text/event-stream; charset=utf-8")
            .putHeader(HttpHeaders.CACHE_CONTROL, "no-cache")
            .putHeader("X-Accel-Buffering", "no");
      }
      response.write("data: " + data + "\n\n");
      if (!response.writeQueueFull()) {
        subscription.get().request(1);
        return;
      }
      // One next event per full queue, whichever comes first: the drain (a handler fires on each
      // change back to writable, and may still be registered from an earlier event), or the
      // queue found drained once the handler is set (it may drain on its own event loop between
      // the check above and the registration, with no handler to hear it).
      AtomicBoolean asked = new AtomicBoolean();
      Runnable next =
          () -> {
            if (asked.compareAndSet(false, true)) {
              subscription.get().request(1);
            }
          };
      response.drainHandler(v -> next.run());
      if (!response.writeQueueFull()) {
        next.run();
      }
    }

    @Override
    public void onFailure(Throwable failure) {
      GatewayException e = asGatewayError(failure);
      if (!started) {
        OpenAiErrors.write(response, e);
      } else if (!response.closed() && !response.ended()) {
        // Mid-stream the status is already sent: OpenAI reports the error as an event.
        response.end("data: " + OpenAiErrors.body(e) + "\n\n");
      }
    }

    @Override
    public void onCompletion() {
      if (!response.closed() && !response.ended()) {
        response.end();
      }
    }
  }

  /**
   * True, and the call ended unsent (its reservation released, nothing recorded), when the caller
   * disconnected before the call could start: while its budget was reserved, on a worker thread, a
   * close the close handler registered just now never hears of. A close after this check reaches a
   * stream's close handler, which cancels it; a complete call runs to its end.
   */
  private boolean callerGone(HttpServerResponse response, ChatCall call) {
    if (!response.closed()) {
      return false;
    }
    chats.abandon(call, ChatService.callerGone());
    unclaim(call.claim());
    return true;
  }

  /** {@code GET /v1/models}: the configured aliases and the models the default provider serves. */
  void models(RoutingContext rc) {
    try {
      apiKeys.authenticate(
          rc.request().getHeader(HttpHeaders.AUTHORIZATION), rc.request().getHeader(Headers.TEAM));
    } catch (GatewayException e) {
      OpenAiErrors.write(rc.response(), e);
      return;
    }
    ObjectNode root = mapper.createObjectNode();
    root.put("object", "list");
    ArrayNode data = root.putArray("data");
    for (Map.Entry<String, Route> alias : router.aliases().entrySet()) {
      model(data, alias.getKey(), 0, alias.getValue().provider().name());
    }
    for (String alias : router.deploymentAliases()) {
      model(data, alias, 0, "atelier");
    }
    String owner = router.defaultProvider().name();
    for (String model : router.pricedModels()) {
      if (!router.aliases().containsKey(model)) {
        long created =
            prices.all().stream()
                .filter(p -> p.model().equals(model))
                .map(Price::effectiveFrom)
                .min(java.util.Comparator.naturalOrder())
                .map(java.time.Instant::getEpochSecond)
                .orElse(0L);
        model(data, model, created, owner);
      }
    }
    rc.response().putHeader(HttpHeaders.CONTENT_TYPE, "application/json").end(root.toString());
  }

  private static void model(ArrayNode data, String id, long created, String owner) {
    ObjectNode m = data.addObject();
    m.put("id", id);
    m.put("object", "model");
    m.put("created", created);
    m.put("owned_by", owner);
  }

  /** {@code POST /v1/embeddings}: routed like chat, answered as the provider sent it, recorded. */
  void embeddings(RoutingContext rc) {
    Context parent = Context.current();
    rc.put(EVENT_LOOP, io.vertx.core.Vertx.currentContext());
    Buffer body = rc.body().buffer();
    offWhenLarge(body, () -> embeddings(rc, parent, body));
  }

  private void embeddings(RoutingContext rc, Context parent, Buffer body) {
    try {
      String team =
          apiKeys.authenticate(
              rc.request().getHeader(HttpHeaders.AUTHORIZATION),
              rc.request().getHeader(Headers.TEAM));
      if (body == null || body.length() == 0) {
        throw GatewayException.invalid("invalid_json", null, "The request body is empty");
      }
      byte[] bytes = body.getBytes();
      ObjectNode request = embeddings.parse(bytes);
      Attribution attribution = Attribution.from(rc.request()::getHeader);
      BigDecimal workflowBudget =
          WorkflowBudgetHeader.parse(rc.request()::getHeader, attribution.workflowId());
      String key = idempotencyKey(rc);
      if (key == null) {
        embed(rc, parent, request, team, attribution, workflowBudget, null);
        return;
      }
      keyed(
          rc,
          team,
          key,
          bytes,
          claim -> embed(rc, parent, request, team, attribution, workflowBudget, claim));
    } catch (GatewayException e) {
      OpenAiErrors.write(rc.response(), e);
    } catch (RuntimeException e) {
      LOG.errorf(e, "embeddings request failed");
      OpenAiErrors.write(rc.response(), internal());
    }
  }

  private void embed(
      RoutingContext rc,
      Context parent,
      ObjectNode request,
      String team,
      Attribution attribution,
      BigDecimal workflowBudget,
      IdempotentCalls.Claimed claim) {
    try {
      relay(
          embeddings
              .embed(request, team, attribution, workflowBudget, parent)
              .map(Completion::body),
          rc.response(),
          claim,
          null);
    } catch (RuntimeException e) {
      fail(rc, null, claim, e);
    }
  }

  private void failure(RoutingContext rc) {
    Throwable t = rc.failure();
    if (t instanceof GatewayException g) {
      OpenAiErrors.write(rc.response(), g);
    } else if (rc.statusCode() == 413) {
      OpenAiErrors.write(rc.response(), GatewayException.tooLarge(maxRequestBytes));
    } else if (rc.statusCode() >= 400 && rc.statusCode() < 500) {
      OpenAiErrors.write(
          rc.response(),
          new GatewayException(
              rc.statusCode(),
              GatewayException.INVALID_REQUEST,
              null,
              null,
              "The request could not be read (HTTP " + rc.statusCode() + ")",
              false,
              false,
              null,
              null));
    } else {
      LOG.errorf(t, "unexpected failure on %s", rc.request().path());
      OpenAiErrors.write(rc.response(), internal());
    }
  }

  private static GatewayException asGatewayError(Throwable t) {
    if (t instanceof GatewayException g) {
      return g.status() == 499 ? internal() : g;
    }
    LOG.errorf(t, "chat call failed");
    return internal();
  }

  private static GatewayException internal() {
    return new GatewayException(
        500,
        GatewayException.SERVER,
        "internal_error",
        null,
        "The gateway failed to complete the request; the error is logged with its trace id",
        false,
        false,
        null,
        null);
  }
}
