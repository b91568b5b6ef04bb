package dev.atelier.gateway.budget;

import java.math.BigDecimal;

/** Thrown inside the reservation transaction so that reservations already made roll back. */
public class BudgetExceededException extends RuntimeException {

  private final Budget budget;
  private final BigDecimal requestedUsd;

  BudgetExceededException(Budget budget, BigDecimal requested) {
    super(
        "The "
            + budget.describe()
            + " of "
            + usd(budget.limitUsd())
            + " USD is exhausted: "
            + usd(budget.spentUsd())
            + " USD spent and "
            + usd(budget.reservedUsd())
            + " USD reserved by calls in flight, "
            + usd(budget.remainingUsd().max(BigDecimal.ZERO))
            + " USD left, this call may cost up to "
            + usd(requested)
            + " USD",
        null,
        false,
        false);
    this.budget = budget;
    this.requestedUsd = requested;
  }

  private static String usd(BigDecimal v) {
    return v.stripTrailingZeros().toPlainString();
  }

  /** The budget that refused, as read under its lock. */
  public Budget budget() {
    return budget;
  }

  public BigDecimal requestedUsd() {
    return requestedUsd;
  }
}
