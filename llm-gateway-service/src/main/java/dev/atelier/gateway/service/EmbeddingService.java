package dev.atelier.gateway.service;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.atelier.contracts.LlmCallRecorded;
import dev.atelier.gateway.messaging.LlmCallPublisher;
import dev.atelier.gateway.pricing.PriceCatalog;
import dev.atelier.gateway.pricing.PricedCost;
import dev.atelier.gateway.provider.Completion;
import dev.atelier.gateway.provider.EmbeddingCall;
import dev.atelier.gateway.provider.ProviderRouter;
import dev.atelier.gateway.provider.Route;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code POST /v1/embeddings}: validates, routes like chat, calls the provider and records exactly
 * one {@code LlmCallRecorded} (operation {@code embeddings}, input tokens only) per call that
 * reached a provider, priced from the price table.
 */
@ApplicationScoped
public class EmbeddingService {

  private static final int MAX_INPUTS = 2048;

  private final ProviderRouter router;
  private final PriceCatalog prices;
  private final LlmCallPublisher publisher;
  private final ObjectMapper mapper;
  private final Tracer tracer;

  EmbeddingService(
      ProviderRouter router,
      PriceCatalog prices,
      LlmCallPublisher publisher,
      ObjectMapper mapper,
      OpenTelemetry openTelemetry) {
    this.router = router;
    this.prices = prices;
    this.publisher = publisher;
    this.mapper = mapper;
    this.tracer = openTelemetry.getTracer("dev.atelier.gateway");
  }

  /**
   * Parses and validates an embeddings request.
   *
   * @throws GatewayException 400 naming the first invalid field
   */
  public ObjectNode parse(byte[] body) {
    JsonNode json;
    try {
      json = mapper.readTree(body);
    } catch (IOException e) {
      throw GatewayException.invalid("invalid_json", null, "The request body is not valid JSON");
    }
    if (json == null || !json.isObject()) {
      throw GatewayException.invalid(
          "invalid_json", null, "The request body must be a JSON object");
    }
    JsonNode model = json.get("model");
    if (model == null || !model.isTextual() || model.asText().isBlank()) {
      throw GatewayException.invalid("model", "'model' is required");
    }
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
    return (ObjectNode) json;
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

  /** Calls the provider and records the call once it is answered or failed at the provider. */
  public Uni<Completion> embed(
      ObjectNode request, String team, Attribution attribution, Context parent) {
    String model = request.get("model").asText();
    Route route = router.route(model);
    UUID id = UUID.randomUUID();
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
    return route
        .provider()
        .embed(new EmbeddingCall(request, route.upstreamModel(), context))
        .onItem()
        .invoke(
            c -> {
              if (finished.compareAndSet(false, true)) {
                Usage usage =
                    c.usage().orElse(new Usage(0, 0, 0, 0, LlmCallRecorded.USAGE_PROVIDER));
                record(
                    id,
                    request,
                    team,
                    attribution,
                    route,
                    c.responseModel(),
                    usage,
                    null,
                    span,
                    context,
                    startedAt,
                    start);
              }
            })
        .onFailure()
        .invoke(
            t -> {
              if (finished.compareAndSet(false, true)) {
                if (t instanceof GatewayException g && g.fromProvider()) {
                  record(
                      id,
                      request,
                      team,
                      attribution,
                      route,
                      null,
                      Usage.NONE,
                      g,
                      span,
                      context,
                      startedAt,
                      start);
                } else {
                  span.setStatus(StatusCode.ERROR, t.getMessage());
                  span.end();
                }
              }
            })
        .onCancellation()
        .invoke(
            () -> {
              if (finished.compareAndSet(false, true)) {
                span.end();
              }
            });
  }

  private void record(
      UUID id,
      ObjectNode request,
      String team,
      Attribution a,
      Route route,
      String responseModel,
      Usage usage,
      GatewayException error,
      Span span,
      Context context,
      Instant startedAt,
      long start) {
    Duration latency = Duration.ofNanos(System.nanoTime() - start);
    PricedCost cost =
        prices.price(
            route.provider().name(), route.upstreamModel(), responseModel, usage, startedAt);
    span.setAttribute(AttributeKey.longKey("gen_ai.usage.input_tokens"), usage.input());
    if (cost.known()) {
      span.setAttribute(AttributeKey.doubleKey("gen_ai.usage.cost"), cost.costUsd().doubleValue());
    }
    if (error != null) {
      span.setAttribute("error.type", GenAiTelemetry.errorType(error));
      span.setStatus(StatusCode.ERROR, error.getMessage());
    }
    span.end();
    SpanContext sc = span.getSpanContext();
    LlmCallRecorded event =
        new LlmCallRecorded(
            id,
            LlmCallRecorded.TYPE,
            Instant.now(),
            a.workflowId(),
            a.stepId(),
            a.agent(),
            a.conversationId(),
            team,
            "embeddings",
            route.provider().name(),
            request.get("model").asText(),
            responseModel != null ? responseModel : route.upstreamModel(),
            error == null ? LlmCallRecorded.STATUS_OK : LlmCallRecorded.STATUS_ERROR,
            error == null ? null : GenAiTelemetry.errorType(error),
            false,
            usage.input(),
            usage.cachedInput(),
            0,
            0,
            usage.source(),
            cost.costUsd(),
            cost.priceVersion(),
            startedAt,
            latency.toMillis(),
            null,
            route.provider().simulated(),
            sc.isValid() ? sc.getTraceId() : null,
            sc.isValid() ? sc.getSpanId() : null,
            null);
    publisher.record(event, context);
  }
}
