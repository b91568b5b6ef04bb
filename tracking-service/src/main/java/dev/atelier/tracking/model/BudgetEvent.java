package dev.atelier.tracking.model;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.UUID;

/**
 * One budget threshold crossing as the gateway announced it.
 *
 * @param id the {@code BudgetThresholdCrossed} event id (one per budget, period and threshold)
 * @param key the team name or workflow id of the budget; {@code *} for the global budget
 * @param recordedAt when the ledger stored it
 */
public record BudgetEvent(
    UUID id,
    Instant occurredAt,
    UUID workflowId,
    UUID budgetId,
    String scope,
    String key,
    String period,
    Instant periodStart,
    int thresholdPercent,
    BigDecimal limitUsd,
    BigDecimal spentUsd,
    boolean hard,
    Instant recordedAt) {}
