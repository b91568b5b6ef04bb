package dev.atelier.gateway.pricing;

import dev.atelier.gateway.service.Usage;
import java.math.BigDecimal;
import java.time.Instant;

/**
 * One row of the price table: USD per 1M tokens.
 *
 * @param version the price list the row belongs to, part of every record's priceVersion
 */
public record Price(
    String provider,
    String model,
    BigDecimal inputPerMtok,
    BigDecimal cachedInputPerMtok,
    BigDecimal outputPerMtok,
    Instant effectiveFrom,
    String version) {

  /** Cost scale: at least 10 decimals, enough for one token of the cheapest model. */
  public static final int MIN_SCALE = 10;

  private static final int PER_MILLION = 6;

  /**
   * {@code ((input - cached) * in + cached * cachedIn + output * out) / 1M}, exact. Reasoning
   * tokens are part of {@code output} and priced as output.
   */
  public BigDecimal cost(Usage usage) {
    BigDecimal uncached = BigDecimal.valueOf(usage.input() - usage.cachedInput());
    BigDecimal sum =
        uncached
            .multiply(inputPerMtok)
            .add(BigDecimal.valueOf(usage.cachedInput()).multiply(cachedInputPerMtok))
            .add(BigDecimal.valueOf(usage.output()).multiply(outputPerMtok))
            .movePointLeft(PER_MILLION);
    return sum.setScale(Math.max(sum.scale(), MIN_SCALE));
  }

  /** {@code provider/model@version}. */
  public String describe() {
    return provider + "/" + model + "@" + version;
  }
}
