package dev.atelier.orchestrator.rest;

import dev.atelier.orchestrator.model.Usage;
import dev.atelier.orchestrator.model.WorkflowRun;
import dev.atelier.orchestrator.model.WorkflowStatus;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

/**
 * A workflow in a list, without its steps.
 *
 * @param budgetUsd what the workflow may spend on LLM calls; {@code null} without a budget
 * @param spentUsd what its LLM calls cost so far ({@code usage.costUsd})
 */
public record WorkflowSummary(
    UUID id,
    String title,
    String definition,
    int definitionVersion,
    String team,
    WorkflowStatus status,
    Instant createdAt,
    Instant updatedAt,
    Instant completedAt,
    String failureReason,
    BigDecimal budgetUsd,
    BigDecimal spentUsd,
    Usage usage) {

  static WorkflowSummary of(WorkflowRun w) {
    return new WorkflowSummary(
        w.id(),
        w.title(),
        w.definitionName(),
        w.definitionVersion(),
        w.team(),
        w.status(),
        w.createdAt(),
        w.updatedAt(),
        w.completedAt(),
        w.failureReason(),
        w.budgetUsd(),
        w.spentUsd(),
        w.usage());
  }

  /**
   * A page of workflows, newest first.
   *
   * @param nextCursor pass as {@code cursor} for the next page; {@code null} on the last page
   */
  public record Page(List<WorkflowSummary> items, String nextCursor) {}
}
