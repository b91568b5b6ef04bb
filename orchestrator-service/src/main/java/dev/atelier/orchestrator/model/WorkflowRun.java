package dev.atelier.orchestrator.model;

import dev.atelier.contracts.StepFailed;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;

/**
 * One workflow as stored. Only its status (and what goes with it) changes, and only under the
 * workflow's row lock.
 */
public final class WorkflowRun {

  private final UUID id;
  private final String title;
  private final String requirement;
  private final String definitionName;
  private final int definitionVersion;
  private final String team;
  private final Map<String, String> metadata;
  private final Map<String, String> traceContext;
  private final String traceId;
  private final Instant createdAt;
  private final Usage usage;
  private WorkflowStatus status;
  private BigDecimal budgetUsd;
  private String failureReason;
  private String budgetScope;
  private Instant updatedAt;
  private Instant completedAt;

  public WorkflowRun(
      UUID id,
      String title,
      String requirement,
      String definitionName,
      int definitionVersion,
      String team,
      WorkflowStatus status,
      BigDecimal budgetUsd,
      Map<String, String> metadata,
      Map<String, String> traceContext,
      String traceId,
      String failureReason,
      String budgetScope,
      Instant createdAt,
      Instant updatedAt,
      Instant completedAt,
      Usage usage) {
    this.id = id;
    this.title = title;
    this.requirement = requirement;
    this.definitionName = definitionName;
    this.definitionVersion = definitionVersion;
    this.team = team;
    this.status = status;
    this.budgetUsd = budgetUsd;
    this.metadata = Map.copyOf(metadata);
    this.traceContext = Map.copyOf(traceContext);
    this.traceId = traceId;
    this.failureReason = failureReason;
    this.budgetScope = budgetScope;
    this.createdAt = createdAt;
    this.updatedAt = updatedAt;
    this.completedAt = completedAt;
    this.usage = usage;
  }

  public void complete(Instant now) {
    status = WorkflowStatus.COMPLETED;
    updatedAt = now;
    completedAt = now;
  }

  public void fail(String reason, Instant now) {
    status = WorkflowStatus.FAILED;
    failureReason = reason;
    updatedAt = now;
    completedAt = now;
  }

  /** Stopped by a person; {@code reason} says why. */
  public void cancel(String reason, Instant now) {
    status = WorkflowStatus.CANCELLED;
    failureReason = reason;
    updatedAt = now;
    completedAt = now;
  }

  /**
   * Stopped by a budget: the gateway refused a call for it, or its recorded spend reached its
   * budget before a step could be sent out. {@code reason} says which, with the spend.
   *
   * @param scope the stopping budget's scope ({@code workflow}, {@code team}, {@code global}), or
   *     null when unknown
   */
  public void exceedBudget(String reason, String scope, Instant now) {
    status = WorkflowStatus.BUDGET_EXCEEDED;
    failureReason = reason;
    budgetScope = scope;
    updatedAt = now;
    completedAt = now;
  }

  /** Whether its recorded spend has reached its budget (never without a budget). */
  public boolean budgetExhausted() {
    return budgetUsd != null && usage.costUsd().compareTo(budgetUsd) >= 0;
  }

  /** A new, higher budget, set when a person retries it. */
  public void raiseBudget(BigDecimal newBudgetUsd) {
    if (budgetUsd != null && newBudgetUsd.compareTo(budgetUsd) <= 0) {
      throw new IllegalArgumentException(
          "budget " + newBudgetUsd + " does not exceed " + budgetUsd);
    }
    budgetUsd = newBudgetUsd;
  }

  /** What its LLM calls cost so far (the known costs). */
  public BigDecimal spentUsd() {
    return usage.costUsd();
  }

  /** A failed workflow runs again (its failed steps are retried). */
  public void reopen(Instant now) {
    status = WorkflowStatus.RUNNING;
    failureReason = null;
    budgetScope = null;
    updatedAt = now;
    completedAt = null;
  }

  /**
   * An active workflow waits for approval while one of its steps does, else runs; a finished one
   * stays as it is.
   */
  public void settle(boolean awaitingApproval, Instant now) {
    if (status.isTerminal()) {
      return;
    }
    WorkflowStatus next =
        awaitingApproval ? WorkflowStatus.WAITING_APPROVAL : WorkflowStatus.RUNNING;
    if (next != status) {
      status = next;
      updatedAt = now;
    }
  }

  /** What the workflow may still spend, or {@code null} without a budget. */
  public BigDecimal budgetRemainingUsd() {
    if (budgetUsd == null) {
      return null;
    }
    BigDecimal left = budgetUsd.subtract(usage.costUsd());
    return left.signum() < 0 ? BigDecimal.ZERO : left;
  }

  public UUID id() {
    return id;
  }

  public String title() {
    return title;
  }

  public String requirement() {
    return requirement;
  }

  public String definitionName() {
    return definitionName;
  }

  public int definitionVersion() {
    return definitionVersion;
  }

  public String team() {
    return team;
  }

  public WorkflowStatus status() {
    return status;
  }

  public BigDecimal budgetUsd() {
    return budgetUsd;
  }

  public Map<String, String> metadata() {
    return metadata;
  }

  public Map<String, String> traceContext() {
    return traceContext;
  }

  public String traceId() {
    return traceId;
  }

  public String failureReason() {
    return failureReason;
  }

  /**
   * Which budget stopped a {@code budget_exceeded} workflow: {@code workflow} (its own), {@code
   * team} or {@code global}; null when unknown or not stopped by a budget.
   */
  public String budgetScope() {
    return budgetScope;
  }

  /**
   * Whether a retry needs a raised workflow budget: its recorded spend has reached its budget, or
   * its own budget stopped it (or an unknown one, while it has a budget of its own). A team or
   * global budget at the gateway is raised there, not here.
   */
  public boolean needsRaisedBudget() {
    if (budgetExhausted()) {
      return true;
    }
    return status == WorkflowStatus.BUDGET_EXCEEDED
        && budgetUsd != null
        && (budgetScope == null || StepFailed.BUDGET_SCOPE_WORKFLOW.equals(budgetScope));
  }

  public Instant createdAt() {
    return createdAt;
  }

  public Instant updatedAt() {
    return updatedAt;
  }

  public Instant completedAt() {
    return completedAt;
  }

  public Usage usage() {
    return usage;
  }
}
