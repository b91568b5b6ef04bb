package dev.atelier.gateway;

import dev.atelier.contracts.LlmCallRecorded;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.UUID;

/** A plausible call record for tests that only move records around. */
public final class RecordFixtures {

  private RecordFixtures() {}

  /** A simulated call of {@code workflowId}, with a fresh event id. */
  public static LlmCallRecorded event(UUID workflowId) {
    Instant now = Instant.now();
    return new LlmCallRecorded(
        UUID.randomUUID(),
        LlmCallRecorded.TYPE,
        now,
        workflowId,
        "s1",
        "developer",
        null,
        "default",
        "chat",
        "simulated",
        "gpt-4o",
        "gpt-4o",
        "ok",
        null,
        false,
        100,
        0,
        50,
        0,
        "provider",
        new BigDecimal("0.0007500000"),
        "simulated-as:openai/gpt-4o@openai-2024-10",
        now,
        12,
        null,
        true,
        "4bf92f3577b34da6a3ce929d0e0e4736",
        null,
        null);
  }
}
