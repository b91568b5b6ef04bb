package dev.atelier.tracking.model;

import java.time.Instant;
import java.util.UUID;

/**
 * Which ledger rows a query covers; every {@code null} criterion matches all rows.
 *
 * @param model matches the model that answered, or the requested one when none answered
 * @param from inclusive lower bound on {@code occurredAt}
 * @param to exclusive upper bound on {@code occurredAt}
 */
public record LlmCallFilter(
    UUID workflowId,
    String stepId,
    String agent,
    String conversationId,
    String team,
    String provider,
    String model,
    String status,
    Instant from,
    Instant to) {

  public static LlmCallFilter all() {
    return new LlmCallFilter(null, null, null, null, null, null, null, null, null, null);
  }

  public LlmCallFilter withTimeRange(Instant from, Instant to) {
    return new LlmCallFilter(
        workflowId, stepId, agent, conversationId, team, provider, model, status, from, to);
  }
}
