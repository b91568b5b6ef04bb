package dev.atelier.gateway.pricing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.atelier.gateway.service.Usage;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class PriceCatalogTest {

  private static final Instant NOW = Instant.parse("2026-12-07T00:00:00Z");
  private static final Price GPT_4O =
      new Price(
          "openai",
          "gpt-4o",
          new BigDecimal("2.5"),
          new BigDecimal("1.25"),
          new BigDecimal("10"),
          Instant.parse("2024-10-01T00:00:00Z"),
          "openai-2024-10");
  private static final Price SIMULATED_ANY =
      new Price(
          "simulated",
          "*",
          new BigDecimal("0.15"),
          new BigDecimal("0.075"),
          new BigDecimal("0.6"),
          Instant.parse("2024-01-01T00:00:00Z"),
          "simulated-1");

  @Test
  void aDatedModelAskedForIsPricedBeforeTheCallAsItIsAfter() throws Exception {
    PriceCatalog catalog = catalog(GPT_4O, SIMULATED_ANY);
    Usage usage = Usage.estimated(1_000, 1_000);

    // Before the call: only the model asked for is known.
    PricedCost reserved = catalog.price("openai", "gpt-4o-2024-08-06", null, usage, NOW);
    // After it: the provider names the snapshot that answered.
    PricedCost settled =
        catalog.price("openai", "gpt-4o-2024-08-06", "gpt-4o-2024-08-06", usage, NOW);

    assertThat(reserved.known()).isTrue();
    assertThat(reserved.costUsd()).isEqualByComparingTo("0.0125");
    assertThat(reserved.priceVersion()).isEqualTo(settled.priceVersion());
    assertThat(reserved.costUsd()).isEqualByComparingTo(settled.costUsd());

    // The simulated provider borrows the same price instead of its cheap catch-all.
    PricedCost simulated = catalog.price("simulated", "gpt-4o-2024-08-06", null, usage, NOW);
    assertThat(simulated.priceVersion()).isEqualTo("simulated-as:openai/gpt-4o@openai-2024-10");

    // Names that only look dated are not cut.
    assertThat(catalog.price("openai", "gpt-4o-2024", null, usage, NOW).known()).isFalse();
  }

  private static PriceCatalog catalog(Price... prices) throws Exception {
    PriceRepository table =
        new PriceRepository(null) {
          @Override
          public List<Price> findAll() {
            return List.of(prices);
          }
        };
    PriceCatalog catalog = new PriceCatalog(table, null);
    catalog.reload();
    return catalog;
  }
}
