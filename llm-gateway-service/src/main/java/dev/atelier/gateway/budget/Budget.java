package dev.atelier.gateway.budget;

import dev.atelier.contracts.StepFailed;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.UUID;

/**
 * A spending limit in USD, with what is spent and reserved in its current period.
 *
 * @param scope {@code global}, {@code team} or {@code workflow}
 * @param key the team name, the workflow id, or {@code *} for the global budget
 * @param period what the spend counts over; a workflow budget is always {@link BudgetPeriod#TOTAL}
 * @param periodStart the start (UTC) of the current period
 * @param spentUsd cost of the calls settled in the current period
 * @param reservedUsd worst-case cost of the calls in flight in the current period
 * @param hard true: calls that do not fit are rejected; false: tracked and alerted only
 * @param setBy {@link #SET_BY_ADMIN} (the admin API; applies to every call in its scope) or {@link
 *     #SET_BY_CALLER} (a workflow budget declared in {@code X-Atelier-Workflow-Budget-Usd}; applies
 *     to the calls that declare it)
 */
public record Budget(
    UUID id,
    String scope,
    String key,
    BudgetPeriod period,
    BigDecimal limitUsd,
    boolean hard,
    Instant periodStart,
    BigDecimal spentUsd,
    BigDecimal reservedUsd,
    Instant updatedAt,
    String setBy) {

  // The scopes are the contract's: a refusal names its budget's scope to the worker (error.param),
  // which passes it on in StepFailed.budgetScope.
  public static final String GLOBAL = StepFailed.BUDGET_SCOPE_GLOBAL;
  public static final String TEAM = StepFailed.BUDGET_SCOPE_TEAM;
  public static final String WORKFLOW = StepFailed.BUDGET_SCOPE_WORKFLOW;

  /** Set through the admin API. */
  public static final String SET_BY_ADMIN = "admin";

  /** A workflow budget its calls declare in {@code X-Atelier-Workflow-Budget-Usd}. */
  public static final String SET_BY_CALLER = "caller";

  /** The key of the global scope. */
  public static final String GLOBAL_KEY = "*";

  /** What is left for new calls: limit - spent - reserved (negative once overspent). */
  public BigDecimal remainingUsd() {
    return limitUsd.subtract(spentUsd).subtract(reservedUsd);
  }

  /** For messages: {@code team budget 'research' (day from 2026-12-04T00:00:00Z)}. */
  public String describe() {
    String name = scope + " budget '" + key + "'";
    return period == BudgetPeriod.TOTAL
        ? name + " (total)"
        : name + " (" + period.label() + " from " + periodStart + ")";
  }
}
