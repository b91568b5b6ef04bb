package dev.atelier.gateway.service;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.atelier.contracts.LlmCallRecorded;
import dev.atelier.gateway.budget.BudgetService;
import dev.atelier.gateway.config.GatewayConfig;
import dev.atelier.gateway.messaging.LlmCallPublisher;
import dev.atelier.gateway.pricing.PriceCatalog;
import dev.atelier.gateway.pricing.PricedCost;
import dev.atelier.gateway.provider.Completion;
import dev.atelier.gateway.provider.ProviderCall;
import dev.atelier.gateway.provider.ProviderRouter;
import dev.atelier.gateway.provider.StreamEvent;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.context.Context;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import jakarta.enterprise.context.ApplicationScoped;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * Runs a chat call: routes it, calls the provider, meters the answer (provider usage, else a
 * tokenizer estimate), prices it, ends its span, records its metrics and hands exactly one {@link
 * LlmCallRecorded} to the publisher, whether the call succeeded, failed at the provider, or was
 * abandoned by the caller.
 */
@ApplicationScoped
public class ChatService {

  /** Error code of a call whose caller went away before the answer was complete. */
  public static final String CLIENT_DISCONNECTED = "client_disconnected";

  private static final Logger LOG = Logger.getLogger(ChatService.class);

  private final ProviderRouter router;
  private final TokenCounter tokens;
  private final PriceCatalog prices;
  private final GenAiTelemetry telemetry;
  private final LlmCallPublisher publisher;
  private final BudgetService budgets;
  private final int defaultMaxOutputTokens;
  private final ObjectMapper mapper;
  private final DeploymentFallback fallback;

  ChatService(
      ProviderRouter router,
      TokenCounter tokens,
      PriceCatalog prices,
      GenAiTelemetry telemetry,
      LlmCallPublisher publisher,
      BudgetService budgets,
      GatewayConfig config,
      DeploymentFallback fallback,
      ObjectMapper mapper) {
    this.fallback = fallback;
    this.mapper = mapper;
    this.router = router;
    this.tokens = tokens;
    this.prices = prices;
    this.telemetry = telemetry;
    this.publisher = publisher;
    this.budgets = budgets;
    this.defaultMaxOutputTokens = config.budgets().defaultMaxOutputTokens();
  }

  /**
   * Routes a call and opens its span.
   *
   * @param parent the caller's trace context (the server request span)
   * @throws GatewayException 404 when the model is not served
   */
  public ChatCall start(ChatRequest request, String team, Attribution attribution, Context parent) {
    ChatCall call = new ChatCall(request, team, attribution, router.route(request.model()));
    call.plan(router.plan(request.model()));
    Span span = telemetry.startChat(call, parent);
    call.traced(span, parent.with(span));
    return call;
  }

  /** True when a budget may apply to the call: it must then be {@link #reserve reserved} first. */
  public boolean budgeted(ChatCall call, BigDecimal workflowBudget) {
    return budgets.applies(call.team(), call.attribution().workflowId(), workflowBudget);
  }

  /**
   * Reserves the call's worst-case cost (prompt estimate + max output tokens x n, no cache
   * discount) on its budgets. Blocking: call it on a worker thread.
   *
   * @param workflowBudget the workflow budget the caller set ({@link WorkflowBudgetHeader}); the
   *     workflow's budget is created or its limit changed to it first; null to leave it
   * @throws GatewayException 402 {@code budget_exceeded} when a hard budget cannot take it
   */
  public void reserve(ChatCall call, BigDecimal workflowBudget) {
    ChatRequest r = call.request();
    long maxOutput =
        (long) (r.maxTokens() != null ? r.maxTokens() : defaultMaxOutputTokens) * r.n();
    long prompt = tokens.promptTokens(call.upstreamModel(), r.body());
    call.promptEstimate(prompt);
    Usage worst = Usage.estimated(prompt, maxOutput);
    PricedCost cost =
        prices.price(call.provider().name(), call.upstreamModel(), null, worst, Instant.now());
    // An unpriced model reserves nothing; it is still refused once the budget is spent.
    BigDecimal amount = cost.known() ? cost.costUsd() : BigDecimal.ZERO;
    budgets.reserve(
        call.id(), call.team(), call.attribution().workflowId(), workflowBudget, amount);
    call.reserved();
  }

  /** Records a call that a budget rejected before any provider was called. */
  public void reject(ChatCall call, GatewayException error) {
    if (call.markFinished()) {
      record(call, Usage.NONE, null, null, null, error);
    }
  }

  /** A complete answer; its body is returned to the caller as the provider sent it. */
  public Uni<Completion> complete(ChatCall call) {
    markSent(call);
    Uni<Completion> answer =
        call.plan().isEmpty()
            ? call.provider().complete(providerCall(call, call.upstreamModel()))
            : attempt(call);
    return answer
        .onItem()
        .invoke(c -> finishCompletion(call, c))
        .onFailure()
        .invoke(t -> finishFailed(call, t))
        .onCancellation()
        .invoke(() -> finishFailed(call, null));
  }

  /**
   * A streamed answer as the {@code data} payloads to send, ending with {@code [DONE]}. The usage
   * chunk the gateway always asks for is passed on only when the caller asked for it. The call is
   * recorded before {@code [DONE]} is emitted.
   */
  public Multi<String> stream(ChatCall call) {
    markSent(call);
    boolean callerWantsUsage = call.request().includeUsage();
    Multi<StreamEvent> events =
        call.plan().isEmpty()
            ? call.provider().stream(providerCall(call, call.upstreamModel()))
            : streamAttempt(call, 0, null);
    return events
        .onItem()
        .invoke(e -> observe(call, e))
        .select()
        .where(e -> callerWantsUsage || !usageOnly(e))
        .onItem()
        .transform(e -> callerWantsUsage || !hasUsage(e.json()) ? e.data() : withoutUsage(e))
        .onCompletion()
        .invoke(() -> finishStream(call, null))
        .onCompletion()
        .continueWith("[DONE]")
        .onFailure()
        .invoke(t -> finishStream(call, t))
        .onCancellation()
        .invoke(() -> finishStream(call, new CallerGone()));
  }

  /** Tries the alias's deployments in turn (see {@link DeploymentFallback#attempt}). */
  private Uni<Completion> attempt(ChatCall call) {
    return fallback.attempt(
        call.trail(), 0, null, a -> a.provider().complete(providerCall(call, a.upstreamModel())));
  }

  /** Like {@link #attempt} for a stream: only a failure before the first event falls back. */
  private Multi<StreamEvent> streamAttempt(ChatCall call, int from, Throwable last) {
    Optional<DeploymentFallback.Attempt> chosen = fallback.choose(call.trail(), from);
    if (chosen.isEmpty()) {
      return Multi.createFrom()
          .failure(last != null ? last : DeploymentFallback.allUnavailable(call.trail()));
    }
    DeploymentFallback.Attempt a = chosen.get();
    return Multi.createFrom()
        .deferred(() -> a.provider().stream(providerCall(call, a.upstreamModel())))
        .onCompletion()
        .invoke(a.breaker()::onSuccess)
        .onFailure()
        .invoke(t -> fallback.outcome(call.trail(), a, t))
        .onCancellation()
        .invoke(a.breaker()::release)
        .onFailure(t -> t instanceof GatewayException g && g.retryable() && !call.anyOutput())
        .recoverWithMulti(t -> streamAttempt(call, a.next(), t));
  }

  /** Ends a call that failed before it reached a provider (its span only; nothing is recorded). */
  public void abandon(ChatCall call, GatewayException error) {
    if (call.markFinished()) {
      call.mark().clear();
      call.span().recordException(error);
      call.span().end();
      if (call.isReserved()) {
        Infrastructure.getDefaultWorkerPool()
            .execute(() -> budgets.settle(call.id(), BigDecimal.ZERO));
      }
    }
  }

  private void observe(ChatCall call, StreamEvent e) {
    call.event();
    JsonNode json = e.json();
    if (json.path("model").isTextual()) {
      call.responseModel(json.get("model").asText());
    }
    if (json.path("id").isTextual()) {
      call.responseId(json.get("id").asText());
    }
    if (hasUsage(json)) {
      Usage.fromOpenAi(json.get("usage")).ifPresent(call::providerUsage);
    }
    for (JsonNode choice : json.path("choices")) {
      JsonNode delta = choice.path("delta");
      boolean content = false;
      JsonNode text = delta.get("content");
      if (text != null && text.isTextual() && !text.asText().isEmpty()) {
        call.output(text.asText());
        content = true;
      }
      for (JsonNode tc : delta.path("tool_calls")) {
        JsonNode fn = tc.path("function");
        call.output(fn.path("name").asText("") + fn.path("arguments").asText(""));
        content = true;
      }
      JsonNode refusal = delta.get("refusal");
      if (refusal != null && refusal.isTextual() && !refusal.asText().isEmpty()) {
        call.output(refusal.asText());
        content = true;
      }
      if (content) {
        call.firstToken();
      }
      if (choice.path("finish_reason").isTextual()) {
        call.finishReason(choice.get("finish_reason").asText());
      }
    }
  }

  private static boolean hasUsage(JsonNode json) {
    JsonNode usage = json.get("usage");
    return usage != null && usage.isObject();
  }

  /** The final usage chunk OpenAI sends when asked: no choices, only usage. */
  private static boolean usageOnly(StreamEvent e) {
    return hasUsage(e.json()) && e.json().path("choices").isEmpty();
  }

  /** Some providers put usage on the last chunk that still carries choices: keep the choices. */
  private static String withoutUsage(StreamEvent e) {
    ObjectNode copy = ((ObjectNode) e.json()).deepCopy();
    copy.remove("usage");
    return copy.toString();
  }

  private void finishCompletion(ChatCall call, Completion c) {
    if (!call.markFinished()) {
      return;
    }
    Usage usage = withUnanswered(call, c.usage().orElseGet(() -> estimatedUsage(call, c)));
    record(call, usage, c.responseModel(), c.responseId(), c.finishReason(), null);
  }

  /**
   * Counts an answer the provider reported no usage for: the prompt, and every choice's content,
   * refusal and tool calls (with {@code n} above 1, each choice was generated and billed).
   */
  private Usage estimatedUsage(ChatCall call, Completion c) {
    JsonNode json = c.tree();
    if (json == null) {
      try {
        json = mapper.readTree(c.body());
      } catch (java.io.IOException e) {
        json = null;
      }
    }
    long output = 0;
    JsonNode choices = json == null ? MissingNode.getInstance() : json.path("choices");
    for (JsonNode choice : choices) {
      JsonNode message = choice.path("message");
      JsonNode toolCalls = message.get("tool_calls");
      String refusal = message.path("refusal").isTextual() ? message.get("refusal").asText() : "";
      output +=
          tokens.completionTokens(
              call.upstreamModel(),
              ChatRequest.text(message.get("content")) + refusal,
              toolCalls == null || toolCalls.isNull() ? null : toolCalls.toString());
    }
    return Usage.estimated(
        tokens.promptTokens(call.upstreamModel(), call.request().body()), output);
  }

  private void finishStream(ChatCall call, Throwable failure) {
    if (!call.markFinished()) {
      return;
    }
    GatewayException error = failure == null ? null : asGatewayError(failure);
    if (error != null && !error.fromProvider() && !(failure instanceof CallerGone)) {
      endWithoutRecord(call, error);
      return;
    }
    Usage usage = call.providerUsage();
    if (usage == null) {
      // Any event, even one without text (the first one of OpenAI's streams), says the provider
      // read the prompt: a failure after it counts the prompt (the provider counted no unanswered
      // attempt for it).
      boolean reached = error == null || call.anyEvent() || failure instanceof CallerGone;
      usage =
          reached
              ? Usage.estimated(
                  tokens.promptTokens(call.upstreamModel(), call.request().body()),
                  call.estimatedOutputTokens(text -> tokens.count(call.upstreamModel(), text)))
              : Usage.NONE;
    }
    record(
        call,
        withUnanswered(call, usage),
        call.responseModel(),
        call.responseId(),
        call.finishReason(),
        error);
  }

  private void finishFailed(ChatCall call, Throwable failure) {
    if (!call.markFinished()) {
      return;
    }
    if (failure == null) {
      // The caller went away while waiting: the provider has read the prompt, so it is counted.
      Usage usage =
          Usage.estimated(tokens.promptTokens(call.upstreamModel(), call.request().body()), 0);
      record(call, withUnanswered(call, usage), null, null, null, new CallerGone().asError());
      return;
    }
    GatewayException error = asGatewayError(failure);
    if (!error.fromProvider()) {
      endWithoutRecord(call, error);
      return;
    }
    record(call, withUnanswered(call, Usage.NONE), null, null, null, error);
  }

  private ProviderCall providerCall(ChatCall call, String upstreamModel) {
    return new ProviderCall(call.request(), upstreamModel, call.context(), call::unanswered);
  }

  /**
   * The usage with the prompt of every attempt the provider got and never answered (timed out,
   * reset, or an answer too large to read) added, estimated: the provider read each of those
   * prompts and may have billed it, although the call's answer came from a later attempt, or none.
   */
  private Usage withUnanswered(ChatCall call, Usage usage) {
    int unanswered = call.unansweredCount();
    if (unanswered == 0) {
      return usage;
    }
    long prompt = call.promptEstimate();
    if (prompt < 0) {
      prompt = tokens.promptTokens(call.upstreamModel(), call.request().body());
    }
    return usage.plusEstimatedInput(prompt * unanswered);
  }

  /**
   * Marks the call as sent to a provider ({@link LlmCallPublisher#sent}) with the record to make
   * should the gateway die during it: the prompt (the reservation's count, else about 4 bytes of
   * request a token; counting every prompt's tokens would cost a call far more than the mark),
   * nothing of the answer, which is unknown.
   */
  private void markSent(ChatCall call) {
    long prompt = call.promptEstimate();
    Usage usage =
        Usage.estimated(
            prompt >= 0 ? prompt : roughPromptTokens(call.upstreamModel(), call.request()), 0);
    PricedCost cost =
        prices.price(call.provider().name(), call.upstreamModel(), null, usage, call.startedAt());
    LlmCallRecorded ifInterrupted =
        event(call, call.startedAt(), usage, cost, null, LlmCallPublisher.INTERRUPTED, 0);
    call.sent(publisher.sent(ifInterrupted, call.context()));
  }

  /**
   * About 4 characters a token of the messages' text, and each image as {@link ImageTokens} counts
   * it (from its header), when no reservation counted the prompt: counting the text exactly would
   * cost a call far more than its mark.
   */
  private static long roughPromptTokens(String model, ChatRequest request) {
    long chars = 0;
    long images = 0;
    for (JsonNode m : request.messages()) {
      JsonNode content = m.get("content");
      if (content != null && content.isTextual()) {
        chars += content.asText().length();
      } else {
        chars += ChatRequest.text(content).length();
        images += ImageTokens.ofContent(model, content);
      }
    }
    return (chars + 3) / 4
        + images
        + TokenCounter.REPLY_PRIMING
        + (long) TokenCounter.TOKENS_PER_MESSAGE * request.messages().size();
  }

  private void endWithoutRecord(ChatCall call, GatewayException error) {
    call.mark().clear(); // no provider was reached
    if (call.isReserved()) {
      // Nothing reached a provider: release the reservation at no cost.
      Infrastructure.getDefaultWorkerPool()
          .execute(() -> budgets.settle(call.id(), BigDecimal.ZERO));
    }
    call.span().setStatus(io.opentelemetry.api.trace.StatusCode.ERROR, error.getMessage());
    call.span().end();
  }

  private void record(
      ChatCall call,
      Usage usage,
      String responseModel,
      String responseId,
      String finishReason,
      GatewayException error) {
    Instant now = Instant.now();
    Duration latency = Duration.ofNanos(System.nanoTime() - call.startNanos());
    PricedCost cost =
        prices.price(
            call.provider().name(), call.upstreamModel(), responseModel, usage, call.startedAt());
    if (!cost.known() && usage.total() > 0) {
      LOG.debugf(
          "no price for %s/%s; cost recorded as unknown",
          call.provider().name(), call.upstreamModel());
    }
    if (call.isReserved()) {
      BigDecimal actual = cost.costUsd();
      Infrastructure.getDefaultWorkerPool().execute(() -> budgets.settle(call.id(), actual));
    }
    String path = call.fallbackPath();
    if (!path.isEmpty()) {
      call.span().setAttribute("atelier.fallback.path", path);
      call.span().setAttribute("gen_ai.provider.name", call.provider().name());
      LOG.infof(
          "call %s answered by %s:%s after %s",
          call.id(), call.provider().name(), call.upstreamModel(), path);
    }
    telemetry.finish(call, usage, cost, responseModel, responseId, finishReason, error, latency);
    LlmCallRecorded event =
        event(
            call,
            now,
            usage,
            cost,
            responseModel,
            error == null ? null : GenAiTelemetry.errorType(error),
            latency.toMillis());
    publisher.record(event, call.context(), call.mark());
  }

  /** The call's record; {@code errorCode} null for a call that succeeded. */
  private static LlmCallRecorded event(
      ChatCall call,
      Instant occurredAt,
      Usage usage,
      PricedCost cost,
      String responseModel,
      String errorCode,
      long latencyMs) {
    SpanContext sc = call.span().getSpanContext();
    Attribution a = call.attribution();
    String path = call.fallbackPath();
    return new LlmCallRecorded(
        call.id(),
        LlmCallRecorded.TYPE,
        occurredAt,
        a.workflowId(),
        a.stepId(),
        a.agent(),
        a.conversationId(),
        call.team(),
        "chat",
        call.provider().name(),
        call.request().model(),
        Objects.requireNonNullElse(ModelName.reported(responseModel), call.upstreamModel()),
        errorCode == null ? LlmCallRecorded.STATUS_OK : LlmCallRecorded.STATUS_ERROR,
        errorCode,
        call.request().stream(),
        usage.input(),
        usage.cachedInput(),
        usage.output(),
        usage.reasoning(),
        usage.source(),
        cost.costUsd(),
        cost.priceVersion(),
        call.startedAt(),
        latencyMs,
        call.request().stream() ? call.timeToFirstTokenMs() : null,
        call.provider().simulated(),
        sc.isValid() ? sc.getTraceId() : null,
        sc.isValid() ? sc.getSpanId() : null,
        path.isEmpty() ? null : path);
  }

  private static GatewayException asGatewayError(Throwable t) {
    if (t instanceof GatewayException g) {
      return g;
    }
    if (t instanceof CallerGone gone) {
      return gone.asError();
    }
    LOG.errorf(t, "chat call failed unexpectedly");
    return new GatewayException(
        500,
        GatewayException.SERVER,
        "internal_error",
        null,
        "The gateway failed to complete the call",
        true,
        false,
        null,
        t);
  }

  /** The error of a call whose caller disconnected before its answer was complete (499). */
  public static GatewayException callerGone() {
    return new GatewayException(
        499,
        GatewayException.INVALID_REQUEST,
        CLIENT_DISCONNECTED,
        null,
        "The caller disconnected before the answer was complete",
        true,
        false,
        null,
        null);
  }

  /** Marks a stream the caller abandoned. */
  private static final class CallerGone extends RuntimeException {
    CallerGone() {
      super("the caller disconnected", null, false, false);
    }

    GatewayException asError() {
      return callerGone();
    }
  }
}
