package dev.atelier.gateway.budget;

import java.math.BigDecimal;

/** Thrown inside the reservation transaction so that reservations already made roll back. */
public class BudgetExceededException extends RuntimeException {

  private final String scope;
  private final String key;
  private final BigDecimal limitUsd;
  private final BigDecimal remainingUsd;
  private final BigDecimal requestedUsd;

  BudgetExceededException(
      String scope,
      String key,
      BigDecimal limitUsd,
      BigDecimal remainingUsd,
      BigDecimal requested) {
    super(
        "The "
            + scope
            + " budget '"
            + key
            + "' of "
            + limitUsd.stripTrailingZeros().toPlainString()
            + " USD is exhausted: "
            + remainingUsd.max(BigDecimal.ZERO).stripTrailingZeros().toPlainString()
            + " USD left, this call may cost up to "
            + requested.stripTrailingZeros().toPlainString()
            + " USD",
        null,
        false,
        false);
    this.scope = scope;
    this.key = key;
    this.limitUsd = limitUsd;
    this.remainingUsd = remainingUsd;
    this.requestedUsd = requested;
  }

  public String scope() {
    return scope;
  }

  public String key() {
    return key;
  }

  public BigDecimal limitUsd() {
    return limitUsd;
  }

  public BigDecimal remainingUsd() {
    return remainingUsd;
  }

  public BigDecimal requestedUsd() {
    return requestedUsd;
  }
}
