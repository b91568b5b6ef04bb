package dev.atelier.gateway.pricing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.atelier.gateway.service.Usage;
import java.math.BigDecimal;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class PriceTest {

  static final Price GPT_4O =
      new Price(
          "openai",
          "gpt-4o",
          new BigDecimal("2.500000000"),
          new BigDecimal("1.250000000"),
          new BigDecimal("10.000000000"),
          Instant.parse("2024-10-01T00:00:00Z"),
          "openai-2024-10");

  @Test
  void costIsExactWithCachedTokensAtTheCachedPrice() {
    // (1000 - 400) x 2.50 + 400 x 1.25 + 200 x 10.00 = 1500 + 500 + 2000 = 4000 per 1M -> 0.004
    BigDecimal cost = GPT_4O.cost(new Usage(1000, 400, 200, 50, "provider"));
    assertThat(cost).isEqualByComparingTo("0.004");
    assertThat(cost.scale()).isGreaterThanOrEqualTo(10);
  }

  @Test
  void oneTokenOfTheCheapestPriceIsNotRoundedAway() {
    Price nano =
        new Price(
            "openai",
            "gpt-5-nano",
            new BigDecimal("0.05"),
            new BigDecimal("0.005"),
            new BigDecimal("0.40"),
            Instant.EPOCH,
            "v");
    assertThat(nano.cost(new Usage(1, 1, 0, 0, "provider"))).isEqualByComparingTo("0.000000005");
  }

  @Test
  void cachedAboveInputIsClampedSoCostNeverDropsBelowTheTruth() {
    assertThat(GPT_4O.cost(new Usage(100, 500, 0, 0, "provider")))
        .isEqualByComparingTo(GPT_4O.cost(new Usage(100, 100, 0, 0, "provider")));
  }
}
