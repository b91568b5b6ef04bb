package dev.atelier.orchestrator.rest;

import dev.atelier.contracts.ArtifactRef;
import dev.atelier.orchestrator.model.StepRun;
import dev.atelier.orchestrator.model.StepState;
import dev.atelier.orchestrator.model.Usage;
import dev.atelier.orchestrator.model.WorkflowRun;
import dev.atelier.orchestrator.model.WorkflowStatus;
import dev.atelier.orchestrator.service.WorkflowDetails;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * A workflow as the API shows it.
 *
 * @param traceId the W3C trace id every span of this workflow shares
 * @param contextUrl where the workflow's artifacts can be read (context-service)
 * @param budgetUsd what the workflow may spend on LLM calls; {@code null} without a budget
 * @param spentUsd what its LLM calls cost so far ({@code usage.costUsd})
 * @param budgetScope which budget stopped a {@code budget_exceeded} workflow: {@code workflow} (its
 *     own: retry it with a higher {@code budgetUsd}), {@code team} or {@code global} (raised at the
 *     gateway; retry it as it is); {@code null} otherwise or when unknown
 */
public record WorkflowView(
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
    String budgetScope,
    String traceId,
    BigDecimal budgetUsd,
    BigDecimal spentUsd,
    Map<String, String> metadata,
    Usage usage,
    List<StepView> steps,
    String contextUrl) {

  /**
   * One step.
   *
   * @param attempt the current (or last) attempt; it keys the worker's idempotent writes
   * @param loopIterations how often this step's verdict looped the workflow back
   * @param outputs the artifact versions of its last successful attempt
   * @param error the last failed attempt's error, if any
   */
  public record StepView(
      UUID id,
      String key,
      String role,
      int agentVersion,
      StepState state,
      int attempt,
      int loopIterations,
      Instant dispatchedAt,
      Instant startedAt,
      Instant finishedAt,
      Instant deadlineAt,
      Instant nextAttemptAt,
      List<ArtifactRef> outputs,
      String verdict,
      String summary,
      ErrorView error,
      Usage usage) {

    static StepView of(StepRun s) {
      return new StepView(
          s.id(),
          s.key(),
          s.role(),
          s.agentVersion(),
          s.state(),
          s.attempt(),
          s.loopCount(),
          s.dispatchedAt(),
          s.startedAt(),
          s.finishedAt(),
          s.deadlineAt(),
          s.nextAttemptAt(),
          s.outputs(),
          s.verdict(),
          s.summary(),
          s.errorCode() == null ? null : new ErrorView(s.errorCode(), s.errorMessage()),
          s.usage());
    }
  }

  /** An attempt's failure. */
  public record ErrorView(String code, String message) {}

  static WorkflowView of(WorkflowDetails details, String contextServiceUrl) {
    WorkflowRun w = details.workflow();
    return new WorkflowView(
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
        w.budgetScope(),
        w.traceId(),
        w.budgetUsd(),
        w.spentUsd(),
        w.metadata(),
        w.usage(),
        details.steps().stream().map(StepView::of).toList(),
        contextServiceUrl.replaceAll("/+$", "") + "/api/v1/workflows/" + w.id() + "/artifacts");
  }
}
