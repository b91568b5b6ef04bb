package dev.atelier.tracking.model;

import java.math.BigDecimal;

/**
 * Totals over a set of LLM calls.
 *
 * @param costUsd exact sum of the known costs in USD; calls without a known cost are not in it
 *     (they are counted in {@code unknownCostCalls}, never as 0), and it is {@code null} when no
 *     call of a non-empty set had a known cost
 * @param unknownCostCalls calls whose cost is unknown
 * @param latencyMsP50 median latency (continuous percentile), {@code null} without calls
 * @param latencyMsP95 95th percentile latency, {@code null} without calls
 * @param latencyMsP99 99th percentile latency, {@code null} without calls
 * @param latencyMsMean mean latency, {@code null} without calls
 * @param timeToFirstTokenMsP50 median time to first token over the streamed calls that measured it,
 *     {@code null} when none did
 * @param timeToFirstTokenMsP95 95th percentile of the same
 *     <p>The percentiles need the raw rows: a report served from the rollups has them {@code null}
 *     (see {@code UsageReport.source}).
 */
public record UsageFigures(
    long calls,
    long errors,
    long inputTokens,
    long cachedInputTokens,
    long outputTokens,
    long reasoningTokens,
    BigDecimal costUsd,
    long unknownCostCalls,
    Double latencyMsP50,
    Double latencyMsP95,
    Double latencyMsP99,
    Double latencyMsMean,
    Double timeToFirstTokenMsP50,
    Double timeToFirstTokenMsP95) {}
