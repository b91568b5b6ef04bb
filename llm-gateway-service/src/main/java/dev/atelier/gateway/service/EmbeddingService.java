package dev.atelier.gateway.service;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.atelier.contracts.LlmCallRecorded;
import dev.atelier.gateway.budget.BudgetService;
import dev.atelier.gateway.messaging.CallMark;
import dev.atelier.gateway.messaging.LlmCallPublisher;
import dev.atelier.gateway.pricing.PriceCatalog;
import dev.atelier.gateway.pricing.PricedCost;
import dev.atelier.gateway.provider.Completion;
import dev.atelier.gateway.provider.EmbeddingCall;
import dev.atelier.gateway.provider.ProviderRouter;
import dev.atelier.gateway.provider.Route;
import dev.atelier.kit.ids.TimeOrderedIds;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import jakarta.enterprise.context.ApplicationScoped;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code POST /v1/embeddings}: validates, routes like chat, calls the provider and records exactly
 * one {@code LlmCallRecorded} (operation {@code embeddings}, input tokens only) per call that
 * reached a provider, priced from the price table.
 */
@ApplicationScoped
public class EmbeddingService {

  private static final int MAX_INPUTS = 2048;

  /**
   * Most JSON tokens an embeddings request may hold ({@link BoundedJson}): OpenAI takes at most
   * 300,000 tokens per request, which as token ids are as many JSON numbers, plus the brackets of
   * up to {@value #MAX_INPUTS} arrays.
   */
  static final long MAX_JSON_TOKENS = 310_000;

  private final ProviderRouter router;
  private final PriceCatalog prices;
  private final BudgetService budgets;
  private final TokenCounter tokens;
  private final DeploymentFallback fallback;
  private final LlmCallPublisher publisher;
  private final BoundedJson parser;
  private final Tracer tracer;

  EmbeddingService(
      ProviderRouter router,
      PriceCatalog prices,
      BudgetService budgets,
      TokenCounter tokens,
      DeploymentFallback fallback,
      LlmCallPublisher publisher,
      ObjectMapper mapper,
      OpenTelemetry openTelemetry) {
    this.router = router;
    this.prices = prices;
    this.budgets = budgets;
    this.tokens = tokens;
    this.fallback = fallback;
    this.publisher = publisher;
    this.parser = new BoundedJson(mapper, MAX_JSON_TOKENS);
    this.tracer = openTelemetry.getTracer("dev.atelier.gateway");
  }

  /**
   * Parses and validates an embeddings request.
   *
   * @throws GatewayException 400 naming the first invalid field
   */
  public ObjectNode parse(byte[] body) {
    ObjectNode json = parser.readObject(body);
    ModelName.require(json);
    JsonNode input = json.get("input");
    if (!validInput(input)) {
      throw GatewayException.invalid(
          "input",
          "'input' must be a non-empty string, an array of up to "
              + MAX_INPUTS
              + " non-empty strings, an array of token ids or an array of such arrays");
    }
    JsonNode format = json.get("encoding_format");
    if (format != null
        && !format.isNull()
        && !("float".equals(format.asText()) || "base64".equals(format.asText()))) {
      throw GatewayException.invalid(
          "encoding_format", "'encoding_format' must be float or base64");
    }
    JsonNode dims = json.get("dimensions");
    if (dims != null
        && !dims.isNull()
        && (!dims.isInt() || dims.asInt() < 1 || dims.asInt() > 3072)) {
      throw GatewayException.invalid(
          "dimensions", "'dimensions' must be an integer from 1 to 3072");
    }
    return json;
  }

  private static boolean validInput(JsonNode input) {
    if (input == null) {
      return false;
    }
    if (input.isTextual()) {
      return !input.asText().isEmpty();
    }
    if (!input.isArray() || input.isEmpty() || input.size() > MAX_INPUTS) {
      return false;
    }
    JsonNode first = input.get(0);
    for (JsonNode item : input) {
      boolean ok =
          first.isNumber()
              ? item.canConvertToInt()
              : first.isArray()
                  ? item.isArray() && !item.isEmpty() && allInts(item)
                  : item.isTextual() && !item.asText().isEmpty();
      if (!ok) {
        return false;
      }
    }
    return true;
  }

  private static boolean allInts(JsonNode array) {
    for (JsonNode n : array) {
      if (!n.canConvertToInt()) {
        return false;
      }
    }
    return true;
  }

  /**
   * Reserves the call's worst case on the budgets that apply (when any), calls the provider, and
   * records the call once it is answered, failed at the provider or refused by a budget. The worst
   * case of an embedding is its input tokens at the model's input price (there is no output); it is
   * settled with the priced usage the provider reports.
   *
   * @param workflowBudget the workflow budget the caller set ({@link WorkflowBudgetHeader}); null
   *     to leave it
   */
  public Uni<Completion> embed(
      ObjectNode request,
      String team,
      Attribution attribution,
      BigDecimal workflowBudget,
      Context parent) {
    String model = request.get("model").asText();
    Route route = router.route(model);
    UUID id = TimeOrderedIds.next();
    Instant startedAt = Instant.now();
    long start = System.nanoTime();
    Span span =
        tracer
            .spanBuilder("embeddings " + model)
            .setParent(parent)
            .setSpanKind(SpanKind.CLIENT)
            .setAttribute("gen_ai.operation.name", "embeddings")
            .setAttribute("gen_ai.provider.name", route.provider().name())
            .setAttribute("gen_ai.request.model", model)
            .startSpan();
    Context context = parent.with(span);
    AtomicBoolean finished = new AtomicBoolean();
    boolean budgeted = budgets.applies(team, attribution.workflowId(), workflowBudget);
    RouteTrail trail = new RouteTrail(id, model, route);
    trail.plan(router.plan(model));
    Call call =
        new Call(
            id,
            request,
            team,
            attribution,
            trail,
            span,
            context,
            startedAt,
            start,
            budgeted,
            new AtomicReference<>(CallMark.NONE),
            new AtomicLong(-1),
            new AtomicInteger());
    Uni<Void> admitted =
        budgeted
            // A reservation is a database transaction: never on the event loop.
            ? Uni.createFrom()
                .<Void>item(
                    () -> {
                      reserve(call, workflowBudget);
                      return null;
                    })
                .runSubscriptionOn(Infrastructure.getDefaultWorkerPool())
                .onFailure()
                .invoke(
                    t -> {
                      finished.set(true);
                      if (t instanceof GatewayException g
                          && BudgetService.BUDGET_EXCEEDED.equals(g.code())) {
                        // A refusal by budget is a call outcome: recorded, like chat's.
                        record(call, null, Usage.NONE, g);
                      } else {
                        span.setStatus(StatusCode.ERROR, t.getMessage());
                        span.end();
                      }
                    })
            : Uni.createFrom().voidItem();
    return admitted
        .invoke(() -> markSent(call))
        .chain(
            () ->
                trail.plan().isEmpty()
                    ? route
                        .provider()
                        .embed(
                            new EmbeddingCall(
                                request, route.upstreamModel(), context, call::unanswered))
                    // An alias: its deployments in turn, with chat's fallback and breakers.
                    : fallback.attempt(
                        trail,
                        0,
                        null,
                        a ->
                            a.provider()
                                .embed(
                                    new EmbeddingCall(
                                        request, a.upstreamModel(), context, call::unanswered))))
        .onItem()
        .invoke(
            c -> {
              if (finished.compareAndSet(false, true)) {
                // No usage from the provider: the tokenizer's count, marked estimated (as chat
                // does); 0 would record the call as free and settle its reservation at nothing.
                Usage usage =
                    c.usage()
                        .orElseGet(
                            () ->
                                Usage.estimated(
                                    tokens.embeddingTokens(
                                        call.route().upstreamModel(), call.request().get("input")),
                                    0));
                settle(call, record(call, c.responseModel(), withUnanswered(call, usage), null));
              }
            })
        .onFailure()
        .invoke(
            t -> {
              if (finished.compareAndSet(false, true)) {
                if (t instanceof GatewayException g && g.fromProvider()) {
                  settle(call, record(call, null, withUnanswered(call, Usage.NONE), g));
                } else {
                  call.mark().getAndSet(CallMark.NONE).clear(); // no provider was reached
                  span.setStatus(StatusCode.ERROR, t.getMessage());
                  span.end();
                  settle(call, null);
                }
              }
            })
        .onCancellation()
        .invoke(
            () -> {
              if (finished.compareAndSet(false, true)) {
                call.mark().getAndSet(CallMark.NONE).clear();
                span.end();
                settle(call, null);
              }
            });
  }

  /** One embeddings call in flight. */
  private record Call(
      UUID id,
      ObjectNode request,
      String team,
      Attribution attribution,
      RouteTrail trail,
      Span span,
      Context context,
      Instant startedAt,
      long start,
      boolean budgeted,
      AtomicReference<CallMark> mark,
      AtomicLong counted,
      AtomicInteger unansweredSends) {

    /** Counts an attempt the provider got and never answered ({@link EmbeddingCall#unanswered}). */
    void unanswered() {
      unansweredSends.incrementAndGet();
    }

    /** The input's tokens as counted for the reservation, or -1 when not counted. */
    long inputEstimate() {
      return counted.get();
    }

    /** The deployment the call is on (another one after a fallback). */
    Route route() {
      return trail.route();
    }
  }

  private void reserve(Call call, BigDecimal workflowBudget) {
    long input = tokens.embeddingTokens(call.route().upstreamModel(), call.request().get("input"));
    call.counted().set(input);
    Usage worst = Usage.estimated(input, 0);
    PricedCost cost =
        prices.price(
            call.route().provider().name(),
            call.route().upstreamModel(),
            null,
            worst,
            Instant.now());
    // An unpriced model reserves nothing; it is still refused once the budget is spent.
    BigDecimal amount = cost.known() ? cost.costUsd() : BigDecimal.ZERO;
    budgets.reserve(
        call.id(), call.team(), call.attribution().workflowId(), workflowBudget, amount);
  }

  /** Settles a reserved call with its cost (null: nothing was spent), off the event loop. */
  private void settle(Call call, PricedCost cost) {
    if (call.budgeted()) {
      BigDecimal actual = cost == null ? BigDecimal.ZERO : cost.costUsd();
      Infrastructure.getDefaultWorkerPool().execute(() -> budgets.settle(call.id(), actual));
    }
  }

  private PricedCost record(Call call, String responseModel, Usage usage, GatewayException error) {
    Duration latency = Duration.ofNanos(System.nanoTime() - call.start());
    Route route = call.route();
    Span span = call.span();
    String fallbackPath = call.trail().fallbackPath();
    PricedCost cost =
        prices.price(
            route.provider().name(), route.upstreamModel(), responseModel, usage, call.startedAt());
    span.setAttribute(AttributeKey.longKey("gen_ai.usage.input_tokens"), usage.input());
    if (!fallbackPath.isEmpty()) {
      span.setAttribute("atelier.fallback.path", fallbackPath);
      span.setAttribute("gen_ai.provider.name", route.provider().name());
    }
    if (cost.known()) {
      span.setAttribute(AttributeKey.doubleKey("gen_ai.usage.cost"), cost.costUsd().doubleValue());
    }
    if (error != null) {
      span.setAttribute("error.type", GenAiTelemetry.errorType(error));
      span.setStatus(StatusCode.ERROR, error.getMessage());
    }
    span.end();
    LlmCallRecorded event =
        event(
            call,
            Instant.now(),
            usage,
            cost,
            responseModel,
            error == null ? null : GenAiTelemetry.errorType(error),
            latency.toMillis());
    publisher.record(event, call.context(), call.mark().getAndSet(CallMark.NONE));
    return cost;
  }

  /**
   * Marks the call as sent to a provider ({@link LlmCallPublisher#sent}), with its input estimated:
   * the reservation's count when it has one, else about 4 characters a token.
   */
  private void markSent(Call call) {
    long input = call.inputEstimate() >= 0 ? call.inputEstimate() : roughTokens(call.request());
    Usage usage = Usage.estimated(input, 0);
    Route route = call.route();
    PricedCost cost =
        prices.price(route.provider().name(), route.upstreamModel(), null, usage, call.startedAt());
    call.mark()
        .set(
            publisher.sent(
                event(call, call.startedAt(), usage, cost, null, LlmCallPublisher.INTERRUPTED, 0),
                call.context()));
  }

  /** The usage with the input of every attempt the provider got and never answered added. */
  private Usage withUnanswered(Call call, Usage usage) {
    int unanswered = call.unansweredSends().get();
    if (unanswered == 0) {
      return usage;
    }
    long input = call.inputEstimate();
    if (input < 0) {
      input = tokens.embeddingTokens(call.route().upstreamModel(), call.request().get("input"));
    }
    return usage.plusEstimatedInput(input * unanswered);
  }

  private static long roughTokens(ObjectNode request) {
    long tokens = 0;
    for (JsonNode item : TokenCounter.embeddingInputs(request.get("input"))) {
      tokens += item.isTextual() ? (item.asText().length() + 3) / 4 : item.size();
    }
    return tokens;
  }

  /** The call's record; {@code errorCode} null for a call that succeeded. */
  private static LlmCallRecorded event(
      Call call,
      Instant occurredAt,
      Usage usage,
      PricedCost cost,
      String responseModel,
      String errorCode,
      long latencyMs) {
    Attribution a = call.attribution();
    Route route = call.route();
    String fallbackPath = call.trail().fallbackPath();
    SpanContext sc = call.span().getSpanContext();
    return new LlmCallRecorded(
        call.id(),
        LlmCallRecorded.TYPE,
        occurredAt,
        a.workflowId(),
        a.stepId(),
        a.agent(),
        a.conversationId(),
        call.team(),
        "embeddings",
        route.provider().name(),
        call.request().get("model").asText(),
        Objects.requireNonNullElse(ModelName.reported(responseModel), route.upstreamModel()),
        errorCode == null ? LlmCallRecorded.STATUS_OK : LlmCallRecorded.STATUS_ERROR,
        errorCode,
        false,
        usage.input(),
        usage.cachedInput(),
        0,
        0,
        usage.source(),
        cost.costUsd(),
        cost.priceVersion(),
        call.startedAt(),
        latencyMs,
        null,
        route.provider().simulated(),
        sc.isValid() ? sc.getTraceId() : null,
        sc.isValid() ? sc.getSpanId() : null,
        fallbackPath.isEmpty() ? null : fallbackPath);
  }
}
