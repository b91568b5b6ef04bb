package dev.atelier.tracking.model;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.UUID;

/**
 * One ledger row: an LLM call as the gateway recorded it.
 *
 * @param id the call id, which is the {@code LlmCallRecorded} event id
 * @param costUsd exact cost in USD, {@code null} when no price was known
 * @param spanId the gateway's span of the call, {@code null} when not known
 * @param fallbackPath the deployments tried in order ({@code provider/model} joined by {@code >})
 *     when more than one was, else {@code null}
 * @param recordedAt when the ledger stored the record
 */
public record LlmCall(
    UUID id,
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
    String fallbackPath,
    Instant recordedAt) {}
