package dev.atelier.contracts;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.UUID;

/**
 * Published by llm-gateway-service to {@link Topology#BUDGET_EVENTS_EXCHANGE} with routing key
 * {@code budget.<scope>.<percent>} when a budget's settled spend first reaches 50, 80 or 100 % of
 * its limit in a period. Each (budget, period, threshold) is announced once: the event id is
 * derived from them, so a replica that re-announces produces a duplicate consumers drop.
 *
 * @param workflowId the workflow of a {@code workflow} budget, otherwise {@code null}
 * @param budgetId the gateway's id of the budget
 * @param scope {@code global}, {@code team} or {@code workflow}
 * @param scopeKey the team name or workflow id; {@code *} for the global budget
 * @param period {@code total} (workflow budgets), {@code day} or {@code month}
 * @param periodStart the start of the period the spend counts in (UTC)
 * @param thresholdPercent 50, 80 or 100
 * @param limitUsd the budget's limit
 * @param spentUsd settled spend in the period when the threshold was crossed
 * @param hard true when the budget rejects calls at its limit, false when it only alerts
 */
public record BudgetThresholdCrossed(
    UUID eventId,
    String type,
    Instant occurredAt,
    UUID workflowId,
    UUID budgetId,
    String scope,
    String scopeKey,
    String period,
    Instant periodStart,
    int thresholdPercent,
    BigDecimal limitUsd,
    BigDecimal spentUsd,
    boolean hard)
    implements AtelierEvent {

  public static final String TYPE = "atelier.budget.threshold-crossed.v1";

  /** The deterministic event id of one (budget, period, threshold). */
  public static UUID eventIdFor(UUID budgetId, Instant periodStart, int thresholdPercent) {
    return UUID.nameUUIDFromBytes(
        (budgetId + "|" + periodStart + "|" + thresholdPercent)
            .getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }
}
