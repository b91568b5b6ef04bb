package dev.atelier.gateway.service;

import static org.assertj.core.api.Assertions.assertThat;

import dev.atelier.contracts.EventChecks;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class RouteTrailTest {

  @Test
  void aShortPathIsRecordedWhole() {
    RouteTrail trail = new RouteTrail(UUID.randomUUID(), "fast", null);
    trail.step("openai/gpt-4o-mini");
    trail.step("azure/gpt-4o-mini");
    assertThat(trail.fallbackPath()).isEqualTo("openai/gpt-4o-mini > azure/gpt-4o-mini");
  }

  @Test
  void aPathTooLongForTheLedgerKeepsItsLastDeploymentsWithinTheLimit() {
    // 60 deployments of 100-character model names: 6 kB, past what a call record may carry (the
    // ledger would dead-letter the record and the call would go unmetered).
    RouteTrail trail = new RouteTrail(UUID.randomUUID(), "fast", null);
    for (int i = 0; i < 60; i++) {
      trail.step("provider-" + i + "/" + "m".repeat(100));
    }
    String path = trail.fallbackPath();
    assertThat(EventChecks.utf8Length(path))
        .isLessThanOrEqualTo(EventChecks.MAX_FALLBACK_PATH_BYTES)
        .isGreaterThan(EventChecks.MAX_FALLBACK_PATH_BYTES - 120);
    assertThat(path)
        .startsWith(RouteTrail.ELIDED + "provider-")
        .endsWith("provider-59/" + "m".repeat(100))
        .doesNotContain("provider-0/");
  }
}
