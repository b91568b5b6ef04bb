package dev.atelier.gateway.service;

import dev.atelier.gateway.pricing.PricedCost;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * The {@code chat {model}} span and the GenAI metrics of OpenTelemetry semantic conventions
 * (v1.41.1), plus Atelier's cost counter. Prompt and completion text are never recorded.
 */
@ApplicationScoped
public class GenAiTelemetry {

  static final AttributeKey<String> OPERATION = AttributeKey.stringKey("gen_ai.operation.name");
  static final AttributeKey<String> PROVIDER = AttributeKey.stringKey("gen_ai.provider.name");
  static final AttributeKey<String> REQUEST_MODEL = AttributeKey.stringKey("gen_ai.request.model");
  static final AttributeKey<String> RESPONSE_MODEL =
      AttributeKey.stringKey("gen_ai.response.model");
  static final AttributeKey<Long> INPUT_TOKENS = AttributeKey.longKey("gen_ai.usage.input_tokens");
  static final AttributeKey<Long> OUTPUT_TOKENS =
      AttributeKey.longKey("gen_ai.usage.output_tokens");
  static final AttributeKey<String> CONVERSATION_ID =
      AttributeKey.stringKey("gen_ai.conversation.id");
  static final AttributeKey<String> AGENT_NAME = AttributeKey.stringKey("gen_ai.agent.name");
  static final AttributeKey<Double> TEMPERATURE =
      AttributeKey.doubleKey("gen_ai.request.temperature");
  static final AttributeKey<Long> MAX_TOKENS = AttributeKey.longKey("gen_ai.request.max_tokens");
  static final AttributeKey<String> OUTPUT_TYPE = AttributeKey.stringKey("gen_ai.output.type");
  static final AttributeKey<String> RESPONSE_ID = AttributeKey.stringKey("gen_ai.response.id");
  static final AttributeKey<List<String>> FINISH_REASONS =
      AttributeKey.stringArrayKey("gen_ai.response.finish_reasons");
  static final AttributeKey<String> ERROR_TYPE = AttributeKey.stringKey("error.type");
  static final AttributeKey<String> WORKFLOW_ID = AttributeKey.stringKey("atelier.workflow.id");
  static final AttributeKey<String> STEP_ID = AttributeKey.stringKey("atelier.step.id");
  static final AttributeKey<Boolean> SIMULATED = AttributeKey.booleanKey("atelier.simulated");
  static final AttributeKey<String> TEAM = AttributeKey.stringKey("atelier.team");
  static final AttributeKey<String> USAGE_SOURCE = AttributeKey.stringKey("atelier.usage.source");
  static final AttributeKey<Long> CACHED_TOKENS =
      AttributeKey.longKey("gen_ai.usage.cache_read.input_tokens");
  static final AttributeKey<Long> REASONING_TOKENS =
      AttributeKey.longKey("atelier.usage.reasoning_tokens");
  static final AttributeKey<String> COST = AttributeKey.stringKey("atelier.cost.usd");
  static final AttributeKey<String> PRICE_VERSION = AttributeKey.stringKey("atelier.price.version");
  static final AttributeKey<String> CALL_ID = AttributeKey.stringKey("atelier.llm_call.id");

  /** Semantic-convention bucket boundaries for gen_ai.client.token.usage. */
  private static final java.util.regex.Pattern ERROR_NAME =
      java.util.regex.Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.:/-]{0,63}");

  private static final double[] TOKEN_BUCKETS = {
    1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864
  };

  /** Semantic-convention bucket boundaries (seconds) for gen_ai.client.operation.duration. */
  private static final double[] DURATION_BUCKETS = {
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92
  };

  private static final Duration[] DURATIONS = durations();

  /**
   * The most meters of these metrics. Their label values come from callers (models, agents, teams,
   * the provider's response model, its error codes), and each new combination would stay in the
   * registry for good: past the bound, new combinations are counted on one meter per metric and
   * provider whose other labels read {@value #OTHER}.
   */
  static final int MAX_METERS = 2048;

  static final String OTHER = "other";

  private final Tracer tracer;
  private final MeterRegistry registry;
  private final Map<MeterKey, Meter> meters = new ConcurrentHashMap<>();

  GenAiTelemetry(OpenTelemetry openTelemetry, MeterRegistry registry) {
    this.tracer = openTelemetry.getTracer("dev.atelier.gateway");
    this.registry = registry;
  }

  /** Starts the call's CLIENT span under the current (server request) context. */
  public Span startChat(ChatCall call, Context parent) {
    ChatRequest r = call.request();
    SpanBuilder b =
        tracer
            .spanBuilder("chat " + r.model())
            .setParent(parent)
            .setSpanKind(SpanKind.CLIENT)
            .setAttribute(OPERATION, "chat")
            .setAttribute(PROVIDER, call.provider().name())
            .setAttribute(REQUEST_MODEL, r.model())
            .setAttribute(SIMULATED, call.provider().simulated())
            .setAttribute(TEAM, call.team())
            .setAttribute(CALL_ID, call.id().toString())
            .setAttribute(
                OUTPUT_TYPE,
                r.responseFormat().type() == ChatRequest.FormatType.TEXT ? "text" : "json");
    Attribution a = call.attribution();
    if (a.workflowId() != null) {
      b.setAttribute(WORKFLOW_ID, a.workflowId().toString());
    }
    if (a.stepId() != null) {
      b.setAttribute(STEP_ID, a.stepId());
    }
    if (a.agent() != null) {
      b.setAttribute(AGENT_NAME, a.agent());
    }
    if (a.conversationId() != null) {
      b.setAttribute(CONVERSATION_ID, a.conversationId());
    }
    if (r.temperature() != null) {
      b.setAttribute(TEMPERATURE, r.temperature());
    }
    if (r.maxTokens() != null) {
      b.setAttribute(MAX_TOKENS, (long) r.maxTokens());
    }
    return b.startSpan();
  }

  /** Ends the span and records the metrics of a finished call. */
  public void finish(
      ChatCall call,
      Usage usage,
      PricedCost cost,
      String responseModel,
      String responseId,
      String finishReason,
      GatewayException error,
      Duration duration) {
    Span span = call.span();
    if (responseModel != null) {
      span.setAttribute(RESPONSE_MODEL, responseModel);
    }
    if (responseId != null) {
      span.setAttribute(RESPONSE_ID, responseId);
    }
    if (finishReason != null) {
      span.setAttribute(FINISH_REASONS, List.of(finishReason));
    }
    span.setAttribute(INPUT_TOKENS, usage.input());
    span.setAttribute(OUTPUT_TOKENS, usage.output());
    span.setAttribute(CACHED_TOKENS, usage.cachedInput());
    span.setAttribute(REASONING_TOKENS, usage.reasoning());
    span.setAttribute(USAGE_SOURCE, usage.source());
    if (cost.known()) {
      span.setAttribute(COST, cost.costUsd().toPlainString());
      span.setAttribute(PRICE_VERSION, cost.priceVersion());
    }
    String errorType = error == null ? null : errorType(error);
    if (error != null) {
      span.setAttribute(ERROR_TYPE, errorType);
      span.setStatus(StatusCode.ERROR, error.getMessage());
    }
    span.end();

    String provider = call.provider().name();
    String model = call.request().model();
    String respModel = responseModel == null ? model : responseModel;
    // Agents are the workflow roles, a small set: per-agent usage and cost stay bounded.
    String agent = call.attribution().agent() == null ? "none" : call.attribution().agent();
    if (error == null || usage.total() > 0) {
      tokenSummary(provider, model, respModel, agent, "input").record(usage.input());
      tokenSummary(provider, model, respModel, agent, "output").record(usage.output());
    }
    meter(
            new MeterKey(
                "duration",
                provider,
                model,
                respModel,
                errorType == null ? "none" : errorType,
                null),
            k ->
                Timer.builder("gen_ai.client.operation.duration")
                    .description("GenAI operation duration")
                    .tags(
                        "gen_ai.operation.name", "chat",
                        "gen_ai.provider.name", k.provider(),
                        "gen_ai.request.model", k.model(),
                        "gen_ai.response.model", k.a(),
                        "error.type", k.b())
                    .serviceLevelObjectives(DURATIONS)
                    .register(registry))
        .record(duration);
    if (cost.known()) {
      meter(
              new MeterKey("cost", provider, model, call.team(), agent, null),
              k ->
                  Counter.builder("atelier.llm.cost")
                      .description("Cost of LLM calls in USD")
                      .baseUnit("usd")
                      .tags(
                          "gen_ai.provider.name", k.provider(),
                          "gen_ai.request.model", k.model(),
                          "team", k.a(),
                          "gen_ai.agent.name", k.b())
                      .register(registry))
          .increment(cost.costUsd().doubleValue());
    } else if (usage.total() > 0) {
      meter(
              new MeterKey("cost.unknown", provider, model, null, null, null),
              k ->
                  Counter.builder("atelier.llm.cost.unknown")
                      .description(
                          "Calls whose cost is unknown because no price matches their model")
                      .tags("gen_ai.provider.name", k.provider(), "gen_ai.request.model", k.model())
                      .register(registry))
          .increment();
    }
  }

  private DistributionSummary tokenSummary(
      String provider, String model, String responseModel, String agent, String type) {
    return meter(
        new MeterKey("tokens", provider, model, responseModel, agent, type),
        k ->
            DistributionSummary.builder("gen_ai.client.token.usage")
                .description("Number of input and output tokens used")
                .tags(
                    "gen_ai.operation.name", "chat",
                    "gen_ai.provider.name", k.provider(),
                    "gen_ai.request.model", k.model(),
                    "gen_ai.response.model", k.a(),
                    "gen_ai.agent.name", k.b(),
                    "gen_ai.token.type", k.c())
                .serviceLevelObjectives(TOKEN_BUCKETS)
                .register(registry));
  }

  /**
   * The meter for a set of label values, registered once. Building a meter id on every call (tag
   * sorting, id allocation, the registry's lookup) was a visible share of a call's CPU. At most
   * {@link #MAX_METERS} sets of label values get their own meter; later ones share the overflow
   * meter of their metric and provider.
   */
  @SuppressWarnings("unchecked")
  private <M extends Meter> M meter(MeterKey key, Function<MeterKey, M> create) {
    Meter m = meters.get(key);
    if (m != null) {
      return (M) m;
    }
    return (M) meters.computeIfAbsent(meters.size() < MAX_METERS ? key : key.other(), create);
  }

  /**
   * A meter's name and label values (up to three besides provider and model); {@code c} is only
   * ever the token type, one of two.
   */
  private record MeterKey(
      String name, String provider, String model, String a, String b, String c) {

    MeterKey other() {
      return new MeterKey(
          name, provider, OTHER, a == null ? null : OTHER, b == null ? null : OTHER, c);
    }
  }

  private static Duration[] durations() {
    Duration[] d = new Duration[DURATION_BUCKETS.length];
    for (int i = 0; i < d.length; i++) {
      d[i] = Duration.ofNanos((long) (DURATION_BUCKETS[i] * 1_000_000_000L));
    }
    return d;
  }

  /**
   * The error's code (else its type) as recorded in the ledger, on spans and as a metric tag. A
   * provider's error names it: a code that is not a short identifier (a NUL, a kilobyte of text) is
   * recorded as {@code provider_error}, so the call's record still passes the ledger's checks.
   */
  static String errorType(GatewayException e) {
    String name = e.code() != null ? e.code() : e.type();
    return name != null && ERROR_NAME.matcher(name).matches() ? name : "provider_error";
  }
}
