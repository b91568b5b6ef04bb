package dev.atelier.contracts;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.UUID;

/**
 * Published by llm-gateway-service to {@link Topology#LLM_CALLS_EXCHANGE} once per LLM call,
 * successful or not. The event id is the call id: the ledger stores each call exactly once.
 *
 * @param workflowId attribution from {@code X-Atelier-Workflow-Id}, or {@code null}
 * @param stepId attribution from {@code X-Atelier-Step-Id}, or {@code null}
 * @param agent attribution from {@code X-Atelier-Agent}, or {@code null}
 * @param conversationId attribution from {@code X-Atelier-Conversation-Id}, or {@code null}
 * @param team the team owning the caller's gateway key
 * @param operation {@code chat} or {@code embeddings}
 * @param provider provider name, {@code simulated} for the built-in provider
 * @param requestModel the model (alias) the caller asked for
 * @param responseModel the model the provider says answered
 * @param status {@code ok} or {@code error}
 * @param errorCode error code when status is {@code error}
 * @param usageSource {@code provider} when the counts come from the provider, {@code estimated}
 *     when counted by the gateway's tokenizer
 * @param costUsd exact cost in USD, or {@code null} when no price is known (never 0 for unknown)
 * @param priceVersion the price table entry used, or {@code null}
 * @param latencyMs wall time of the call in milliseconds
 * @param timeToFirstTokenMs for streams, time to the first content chunk in milliseconds
 * @param simulated true when the simulated provider answered
 * @param traceId the W3C trace id the call belongs to
 * @param spanId the W3C span id of the gateway's {@code chat}/{@code embeddings} span, or {@code
 *     null}
 * @param fallbackPath the deployments tried in order, as {@code provider/model} joined by {@code
 *     >}, when more than one was tried (the last one answered or failed); {@code null} otherwise
 */
public record LlmCallRecorded(
    UUID eventId,
    String type,
    Instant occurredAt,
    UUID workflowId,
    String stepId,
    String agent,
    String conversationId,
    String team,
    String operation,
    String provider,
    String requestModel,
    String responseModel,
    String status,
    String errorCode,
    boolean streamed,
    long inputTokens,
    long cachedInputTokens,
    long outputTokens,
    long reasoningTokens,
    String usageSource,
    BigDecimal costUsd,
    String priceVersion,
    Instant startedAt,
    long latencyMs,
    Long timeToFirstTokenMs,
    boolean simulated,
    String traceId,
    String spanId,
    String fallbackPath)
    implements AtelierEvent {

  public static final String TYPE = "atelier.llm.call.recorded.v1";
  public static final String STATUS_OK = "ok";
  public static final String STATUS_ERROR = "error";
  public static final String USAGE_PROVIDER = "provider";
  public static final String USAGE_ESTIMATED = "estimated";
}
