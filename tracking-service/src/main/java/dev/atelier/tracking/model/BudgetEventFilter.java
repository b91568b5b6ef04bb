package dev.atelier.tracking.model;

import java.time.Instant;
import java.util.UUID;

/**
 * Which budget events a query covers; every {@code null} criterion matches all.
 *
 * @param scope {@code global}, {@code team} or {@code workflow}
 * @param key the budget's scope key (team name, workflow id or {@code *})
 * @param from inclusive lower bound on {@code occurredAt}
 * @param to exclusive upper bound on {@code occurredAt}
 */
public record BudgetEventFilter(
    String scope, String key, UUID workflowId, Instant from, Instant to) {}
