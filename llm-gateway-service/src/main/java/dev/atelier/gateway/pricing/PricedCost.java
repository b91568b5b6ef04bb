package dev.atelier.gateway.pricing;

import java.math.BigDecimal;

/**
 * The cost of a call and the price it was computed with.
 *
 * @param costUsd exact cost, or {@code null} when no price is known (never 0 for unknown)
 * @param priceVersion the price used, or {@code null}
 */
public record PricedCost(BigDecimal costUsd, String priceVersion) {

  public static final PricedCost UNKNOWN = new PricedCost(null, null);

  public boolean known() {
    return costUsd != null;
  }
}
