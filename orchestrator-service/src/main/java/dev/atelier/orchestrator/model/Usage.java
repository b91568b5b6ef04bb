package dev.atelier.orchestrator.model;

import java.math.BigDecimal;

/**
 * LLM usage summed from the gateway's call records.
 *
 * @param costUsd exact sum of the known costs
 * @param unknownCostCalls calls the gateway could not price; their cost is not in {@code costUsd}
 */
public record Usage(
    long calls,
    long inputTokens,
    long cachedInputTokens,
    long outputTokens,
    BigDecimal costUsd,
    long unknownCostCalls) {

  public static final Usage NONE = new Usage(0, 0, 0, 0, BigDecimal.ZERO, 0);

  public Usage plus(Usage other) {
    return new Usage(
        calls + other.calls,
        inputTokens + other.inputTokens,
        cachedInputTokens + other.cachedInputTokens,
        outputTokens + other.outputTokens,
        costUsd.add(other.costUsd),
        unknownCostCalls + other.unknownCostCalls);
  }
}
