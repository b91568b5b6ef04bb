package dev.atelier.contracts;

import java.time.Instant;
import java.util.UUID;

/** What every message on Atelier's exchanges carries. */
public interface AtelierEvent {

  /** Unique per event; consumers deduplicate on it. */
  UUID eventId();

  /** Versioned type name, for example {@code atelier.step.requested.v1}. */
  String type();

  Instant occurredAt();

  /**
   * The workflow the event belongs to; {@code null} only for LLM calls made outside any workflow
   * and for budget events of team or global budgets.
   */
  UUID workflowId();
}
