package dev.atelier.gateway.budget;

import java.math.BigDecimal;
import java.time.Instant;

/**
 * A spending limit in USD.
 *
 * @param scope {@code team} or {@code workflow}
 * @param key the team name or the workflow id
 * @param spentUsd cost of the settled calls
 * @param reservedUsd worst-case cost of the calls in flight
 * @param hard true: calls that do not fit are rejected; false: tracked only
 */
public record Budget(
    String scope,
    String key,
    BigDecimal limitUsd,
    BigDecimal spentUsd,
    BigDecimal reservedUsd,
    boolean hard,
    Instant updatedAt) {

  public static final String TEAM = "team";
  public static final String WORKFLOW = "workflow";

  /** What is left for new calls: limit - spent - reserved (negative once overspent). */
  public BigDecimal remainingUsd() {
    return limitUsd.subtract(spentUsd).subtract(reservedUsd);
  }
}
