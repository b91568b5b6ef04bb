package dev.atelier.gateway.service;

import dev.atelier.gateway.idempotency.IdempotentCalls;
import dev.atelier.gateway.messaging.CallMark;
import dev.atelier.gateway.provider.Deployment;
import dev.atelier.gateway.provider.Provider;
import dev.atelier.gateway.provider.ProviderCall;
import dev.atelier.gateway.provider.Route;
import dev.atelier.kit.ids.TimeOrderedIds;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Context;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.ToLongFunction;

/**
 * The state of one call from the moment it is routed until it is recorded. A stream updates it from
 * the provider's thread while the caller's connection may close from another, so the fields that
 * change are volatile and the call is finished exactly once.
 */
public final class ChatCall {

  private final UUID id = TimeOrderedIds.next();
  private final ChatRequest request;
  private final String team;
  private final Attribution attribution;
  private final RouteTrail trail;
  private final Instant startedAt;
  private final long startNanos;
  private final AtomicBoolean finished = new AtomicBoolean();

  /**
   * Characters of a streamed answer kept for estimating its tokens: a provider that streams without
   * end must not take the gateway's heap with it (a real answer is a few hundred kB at most).
   */
  static final int MAX_KEPT_TEXT = 1 << 20;

  private final StringBuilder streamedText = new StringBuilder();

  /** Characters of the answer beyond {@link #MAX_KEPT_TEXT}, counted, not kept. */
  private long droppedChars;

  private Span span;
  private Context context;
  private volatile long firstTokenNanos = -1;
  private volatile boolean anyOutput;
  private volatile boolean anyEvent;
  private volatile Usage providerUsage;
  private volatile String responseModel;
  private volatile String responseId;
  private volatile String finishReason;
  private volatile boolean reserved;
  private volatile long promptEstimate = -1;
  private final AtomicInteger unanswered = new AtomicInteger();
  private volatile CallMark mark = CallMark.NONE;
  private volatile IdempotentCalls.Claimed claim;

  ChatCall(ChatRequest request, String team, Attribution attribution, Route route) {
    this.request = request;
    this.team = team;
    this.attribution = attribution;
    this.trail = new RouteTrail(id, request.model(), route);
    this.startedAt = Instant.now();
    this.startNanos = System.nanoTime();
  }

  void traced(Span span, Context context) {
    this.span = span;
    this.context = context;
  }

  /** The call id, which is also the event id of its record. */
  public UUID id() {
    return id;
  }

  public ChatRequest request() {
    return request;
  }

  public String team() {
    return team;
  }

  public Attribution attribution() {
    return attribution;
  }

  public Provider provider() {
    return trail.route().provider();
  }

  public String upstreamModel() {
    return trail.route().upstreamModel();
  }

  /** Where the call is routed, for {@link DeploymentFallback}. */
  RouteTrail trail() {
    return trail;
  }

  void plan(List<Deployment> deployments) {
    trail.plan(deployments);
  }

  /** The deployments of the call's alias in the order to try them; empty for a plain model. */
  public List<Deployment> plan() {
    return trail.plan();
  }

  /** The deployments tried or skipped before the one that answered, or empty. */
  public String fallbackPath() {
    return trail.fallbackPath();
  }

  Instant startedAt() {
    return startedAt;
  }

  long startNanos() {
    return startNanos;
  }

  Span span() {
    return span;
  }

  /** The trace context of the call's {@code chat} span. */
  public Context context() {
    return context;
  }

  boolean markFinished() {
    return finished.compareAndSet(false, true);
  }

  void firstToken() {
    if (firstTokenNanos < 0) {
      firstTokenNanos = System.nanoTime();
    }
  }

  Long timeToFirstTokenMs() {
    long t = firstTokenNanos;
    return t < 0 ? null : (t - startNanos) / 1_000_000;
  }

  void output(String text) {
    anyOutput = true;
    synchronized (streamedText) {
      int room = Math.max(0, MAX_KEPT_TEXT - streamedText.length());
      if (text.length() <= room) {
        streamedText.append(text);
      } else {
        streamedText.append(text, 0, room);
        droppedChars += text.length() - room;
      }
    }
  }

  /**
   * The streamed answer's output tokens, for a provider that reports no usage: counted on the text
   * kept, and for a longer answer scaled by the characters beyond it.
   */
  long estimatedOutputTokens(ToLongFunction<String> count) {
    String kept;
    long dropped;
    synchronized (streamedText) {
      kept = streamedText.toString();
      dropped = droppedChars;
    }
    long tokens = count.applyAsLong(kept);
    return kept.isEmpty() ? 0 : tokens + Math.round((double) tokens * dropped / kept.length());
  }

  boolean anyOutput() {
    return anyOutput;
  }

  /** Marks a stream event received, text or not: the provider has read the prompt. */
  void event() {
    anyEvent = true;
  }

  boolean anyEvent() {
    return anyEvent;
  }

  Usage providerUsage() {
    return providerUsage;
  }

  void providerUsage(Usage usage) {
    this.providerUsage = usage;
  }

  String responseModel() {
    return responseModel;
  }

  void responseModel(String model) {
    if (responseModel == null) {
      this.responseModel = model;
    }
  }

  String responseId() {
    return responseId;
  }

  void responseId(String id) {
    if (responseId == null) {
      this.responseId = id;
    }
  }

  String finishReason() {
    return finishReason;
  }

  void finishReason(String reason) {
    this.finishReason = reason;
  }

  void reserved() {
    this.reserved = true;
  }

  /** The prompt's tokens as counted for the reservation, or -1 when not counted. */
  long promptEstimate() {
    return promptEstimate;
  }

  void promptEstimate(long tokens) {
    this.promptEstimate = tokens;
  }

  /** Counts an attempt the provider got and never answered ({@link ProviderCall#unanswered}). */
  void unanswered() {
    unanswered.incrementAndGet();
  }

  /** Attempts the provider got and never answered. */
  int unansweredCount() {
    return unanswered.get();
  }

  /** Its mark as sent to a provider, cleared when the call is recorded. */
  CallMark mark() {
    return mark;
  }

  void sent(CallMark mark) {
    this.mark = mark;
  }

  /** True when the call holds a budget reservation that must be settled. */
  boolean isReserved() {
    return reserved;
  }

  /** The {@code Idempotency-Key} this call holds, or null. */
  public IdempotentCalls.Claimed claim() {
    return claim;
  }

  public void claim(IdempotentCalls.Claimed claim) {
    this.claim = claim;
  }
}
