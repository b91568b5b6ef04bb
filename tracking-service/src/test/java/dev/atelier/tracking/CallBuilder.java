package dev.atelier.tracking;

import dev.atelier.contracts.LlmCallRecorded;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.UUID;

/** Test records with plausible defaults; times are cut to microseconds, PostgreSQL's precision. */
final class CallBuilder {

  private UUID eventId = UUID.randomUUID();
  private Instant occurredAt = Instant.now().truncatedTo(ChronoUnit.MICROS);
  private UUID workflowId;
  private String stepId = "analyse";
  private String agent = "business-analyst";
  private String conversationId = "conv-" + UUID.randomUUID();
  private String team = "team-a";
  private String provider = "simulated";
  private String requestModel = "gpt-4o-mini";
  private String responseModel = "gpt-4o-mini-2024-07-18";
  private String status = LlmCallRecorded.STATUS_OK;
  private long inputTokens = 100;
  private long cachedInputTokens = 10;
  private long outputTokens = 50;
  private long reasoningTokens;
  private BigDecimal costUsd = new BigDecimal("0.0001500000");
  private long latencyMs = 120;
  private Long timeToFirstTokenMs;
  private String fallbackPath;

  static CallBuilder call() {
    return new CallBuilder();
  }

  CallBuilder workflow(UUID id) {
    this.workflowId = id;
    return this;
  }

  CallBuilder at(Instant t) {
    this.occurredAt = t.truncatedTo(ChronoUnit.MICROS);
    return this;
  }

  /** Exactly {@code t}, a fraction of a microsecond included (the ledger rounds it). */
  CallBuilder atExactly(Instant t) {
    this.occurredAt = t;
    return this;
  }

  CallBuilder step(String stepId, String agent) {
    this.stepId = stepId;
    this.agent = agent;
    return this;
  }

  CallBuilder team(String team) {
    this.team = team;
    return this;
  }

  CallBuilder model(String requestModel, String responseModel) {
    this.requestModel = requestModel;
    this.responseModel = responseModel;
    return this;
  }

  CallBuilder error() {
    this.status = LlmCallRecorded.STATUS_ERROR;
    return this;
  }

  CallBuilder tokens(long input, long cached, long output, long reasoning) {
    this.inputTokens = input;
    this.cachedInputTokens = cached;
    this.outputTokens = output;
    this.reasoningTokens = reasoning;
    return this;
  }

  CallBuilder cost(String usd) {
    this.costUsd = usd == null ? null : new BigDecimal(usd);
    return this;
  }

  CallBuilder latency(long ms) {
    this.latencyMs = ms;
    return this;
  }

  CallBuilder ttft(Long ms) {
    this.timeToFirstTokenMs = ms;
    return this;
  }

  CallBuilder fallback(String path) {
    this.fallbackPath = path;
    return this;
  }

  CallBuilder provider(String provider) {
    this.provider = provider;
    return this;
  }

  LlmCallRecorded build() {
    boolean failed = LlmCallRecorded.STATUS_ERROR.equals(status);
    return new LlmCallRecorded(
        eventId,
        LlmCallRecorded.TYPE,
        occurredAt,
        workflowId,
        stepId,
        agent,
        conversationId,
        team,
        "chat",
        provider,
        requestModel,
        failed ? null : responseModel,
        status,
        failed ? "upstream_timeout" : null,
        timeToFirstTokenMs != null,
        inputTokens,
        cachedInputTokens,
        outputTokens,
        reasoningTokens,
        LlmCallRecorded.USAGE_PROVIDER,
        costUsd,
        costUsd == null ? null : "2025-01",
        occurredAt.minusMillis(latencyMs),
        latencyMs,
        timeToFirstTokenMs,
        "simulated".equals(provider),
        "0af7651916cd43dd8448eb211c80319c",
        "b7ad6b7169203331",
        fallbackPath);
  }
}
