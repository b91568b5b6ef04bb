package dev.atelier.gateway.service;

import dev.atelier.contracts.Headers;
import java.math.BigDecimal;
import java.util.UUID;
import java.util.function.Function;

/**
 * Reads {@code X-Atelier-Workflow-Budget-Usd}: the whole budget in USD of the call's workflow. The
 * gateway creates the workflow's hard budget from it on first sight and updates the limit when a
 * later call carries a different value (a workflow retried with a raised budget).
 */
public final class WorkflowBudgetHeader {

  /** The largest limit the budget table holds: 12 integer and 12 decimal digits. */
  private static final int MAX_SCALE = 12;

  private static final int MAX_PRECISION = 24;

  private WorkflowBudgetHeader() {}

  /**
   * The limit the caller set, or {@code null} when the header is absent.
   *
   * @throws GatewayException 400 naming the header when its value is not a non-negative decimal
   *     amount, or when the call names no workflow
   */
  public static BigDecimal parse(Function<String, String> header, UUID workflowId) {
    String value = header.apply(Headers.WORKFLOW_BUDGET_USD);
    if (value == null) {
      return null;
    }
    BigDecimal limit;
    try {
      limit = new BigDecimal(value.trim());
    } catch (NumberFormatException e) {
      throw invalid("must be a decimal amount in USD such as 2.50, got '" + clip(value) + "'");
    }
    if (limit.signum() < 0) {
      throw invalid("must not be negative, got '" + clip(value) + "'");
    }
    limit = limit.stripTrailingZeros();
    if (limit.scale() > MAX_SCALE
        || limit.precision() - limit.scale() > MAX_PRECISION - MAX_SCALE) {
      throw invalid("allows at most 12 decimals and 12 integer digits, got '" + clip(value) + "'");
    }
    if (workflowId == null) {
      throw invalid("needs " + Headers.WORKFLOW_ID + ": a budget belongs to a workflow");
    }
    return limit.scale() < 0 ? limit.setScale(0) : limit;
  }

  private static GatewayException invalid(String why) {
    return GatewayException.invalid(
        "invalid_workflow_budget",
        Headers.WORKFLOW_BUDGET_USD,
        Headers.WORKFLOW_BUDGET_USD + " " + why);
  }

  private static String clip(String s) {
    return s.length() > 64 ? s.substring(0, 64) + "..." : s;
  }
}
