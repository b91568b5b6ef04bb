package dev.atelier.orchestrator.service;

import dev.atelier.contracts.StepRequested;
import dev.atelier.kit.problem.ProblemException;
import dev.atelier.kit.tracing.TraceContexts;
import dev.atelier.orchestrator.model.StepRun;
import dev.atelier.orchestrator.model.StepState;
import dev.atelier.orchestrator.model.Transition;
import dev.atelier.orchestrator.model.WorkflowDefinition;
import dev.atelier.orchestrator.model.WorkflowRun;
import dev.atelier.orchestrator.model.WorkflowStateMachine;
import dev.atelier.orchestrator.repository.OutboxRepository;
import dev.atelier.orchestrator.repository.StepRepository;
import dev.atelier.orchestrator.repository.WorkflowRepository;
import io.opentelemetry.context.Scope;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;
import java.math.BigDecimal;
import java.util.List;
import java.util.UUID;
import org.jboss.logging.Logger;

/**
 * What people do to a running workflow: cancel it, approve or reject a gated step, retry a failed
 * workflow. Each runs in one transaction under the workflow's row lock, like a worker's result, and
 * the messages it causes join the workflow's stored trace, however long after the submission.
 */
@ApplicationScoped
public class WorkflowControl {

  private static final Logger LOG = Logger.getLogger(WorkflowControl.class);
  private static final int COMMENT_MAX = 8192;

  private final WorkflowRepository workflows;
  private final StepRepository steps;
  private final OutboxRepository outbox;
  private final WorkflowDefinitionService definitions;
  private final WorkflowStateMachine machine;
  private final WorkflowEngine engine;
  private final TraceContexts traces;

  WorkflowControl(
      WorkflowRepository workflows,
      StepRepository steps,
      OutboxRepository outbox,
      WorkflowDefinitionService definitions,
      WorkflowStateMachine machine,
      WorkflowEngine engine,
      TraceContexts traces) {
    this.workflows = workflows;
    this.steps = steps;
    this.outbox = outbox;
    this.definitions = definitions;
    this.machine = machine;
    this.engine = engine;
    this.traces = traces;
  }

  /**
   * Cancels an active workflow: its unsent step requests are deleted with the state change, its
   * steps still out are cancelled and their late results ignored. {@code 409} once it has ended.
   */
  @Transactional
  public WorkflowDetails cancel(String id, String reason) {
    checkComment(reason, "reason");
    WorkflowRun workflow = lock(id);
    if (workflow.status().isTerminal()) {
      throw ProblemException.conflict(
          "workflow-finished",
          "workflow " + id + " is already " + workflow.status().value() + "; nothing to cancel");
    }
    List<StepRun> all = steps.findByWorkflow(workflow.id());
    String why = reason == null || reason.isBlank() ? "cancelled" : "cancelled: " + reason.strip();
    int unsent = outbox.deleteUnsent(workflow.id(), StepRequested.TYPE);
    Transition t = machine.cancel(workflow, all, why, WorkflowEngine.now());
    apply(workflow, all, t);
    LOG.infof(
        "workflow %s cancelled; %d unsent step request(s) dropped, %d step(s) cancelled",
        workflow.id(), unsent, t.cancelled().size());
    return new WorkflowDetails(workflow, all, false);
  }

  /** Approves a step waiting at its gate; it is sent out with the comment as feedback. */
  @Transactional
  public WorkflowDetails approve(String id, String stepRef, String comment) {
    checkComment(comment, "comment");
    WorkflowRun workflow = lock(id);
    List<StepRun> all = steps.findByWorkflow(workflow.id());
    StepRun step = awaitingApproval(workflow, all, stepRef);
    Transition t =
        machine.approve(workflow, all, definitionOf(workflow), step, comment, WorkflowEngine.now());
    apply(workflow, all, t);
    LOG.infof("workflow %s: step %s approved (attempt %d)", id, step.key(), step.attempt());
    return new WorkflowDetails(workflow, all, false);
  }

  /**
   * Rejects a step waiting at its gate: back to its {@code onReject} step with the comment as
   * feedback, or the workflow fails with the comment as the reason.
   */
  @Transactional
  public WorkflowDetails reject(String id, String stepRef, String comment) {
    checkComment(comment, "comment");
    WorkflowRun workflow = lock(id);
    List<StepRun> all = steps.findByWorkflow(workflow.id());
    StepRun step = awaitingApproval(workflow, all, stepRef);
    Transition t =
        machine.reject(workflow, all, definitionOf(workflow), step, comment, WorkflowEngine.now());
    apply(workflow, all, t);
    LOG.infof("workflow %s: step %s rejected; workflow %s", id, step.key(), workflow.status());
    return new WorkflowDetails(workflow, all, false);
  }

  /**
   * Resumes a failed or budget-stopped workflow from its failed, cancelled and unsent steps, as new
   * attempts; succeeded steps keep their outputs. {@code newBudgetUsd}, when given, raises the
   * workflow's budget first: it must exceed both the current budget and the spend. A workflow
   * stopped by its own budget (or whose spend has reached it) is resumed only with a raised one;
   * one a team or global budget at the gateway stopped is resumed as it is (raise that budget at
   * the gateway first). {@code 409} otherwise.
   */
  @Transactional
  public WorkflowDetails retry(String id, BigDecimal newBudgetUsd) {
    WorkflowRun workflow = lock(id);
    if (!workflow.status().isRetryable()) {
      throw ProblemException.conflict(
          "workflow-not-failed",
          "workflow "
              + id
              + " is "
              + workflow.status().value()
              + "; only a failed or budget_exceeded one is retried");
    }
    BigDecimal budget = workflow.budgetUsd();
    String spent = workflow.spentUsd().toPlainString();
    if (newBudgetUsd != null) {
      if (budget == null) {
        throw ProblemException.conflict(
            "budget-not-raised",
            "workflow "
                + id
                + " has no budget of its own to raise (what stopped it was a budget at the"
                + " gateway); retry it without budgetUsd");
      }
      if (newBudgetUsd.compareTo(budget) <= 0 || newBudgetUsd.compareTo(workflow.spentUsd()) <= 0) {
        throw ProblemException.conflict(
            "budget-not-raised",
            "budgetUsd %s must exceed the workflow's budget of %s USD and its spend of %s USD"
                .formatted(newBudgetUsd.toPlainString(), budget.toPlainString(), spent));
      }
      workflow.raiseBudget(newBudgetUsd);
    } else if (workflow.needsRaisedBudget()) {
      throw ProblemException.conflict(
          "budget-exceeded",
          "workflow %s stopped at its budget of %s USD (spent %s USD); retry it with a higher"
                  .formatted(id, budget.toPlainString(), spent)
              + " budgetUsd");
    }
    List<StepRun> all = steps.findByWorkflow(workflow.id());
    Transition t = machine.resume(workflow, all, definitionOf(workflow), WorkflowEngine.now());
    apply(workflow, all, t);
    LOG.infof(
        "workflow %s retried%s; dispatched %s",
        id,
        newBudgetUsd == null ? "" : " with budget " + newBudgetUsd.toPlainString() + " USD",
        t.dispatched().stream().map(StepRun::key).toList());
    return new WorkflowDetails(workflow, all, false);
  }

  private void apply(WorkflowRun workflow, List<StepRun> all, Transition t) {
    // The request's own span is not the parent: the workflow's stored trace is.
    try (Scope ignored = traces.extract(workflow.traceContext()).makeCurrent()) {
      engine.apply(workflow, all, definitionOf(workflow), t);
    }
  }

  private WorkflowDefinition definitionOf(WorkflowRun workflow) {
    return definitions.version(workflow.definitionName(), workflow.definitionVersion());
  }

  private WorkflowRun lock(String id) {
    UUID uuid;
    try {
      uuid = UUID.fromString(id);
    } catch (IllegalArgumentException e) {
      throw ProblemException.notFound("workflow", id);
    }
    return workflows.lock(uuid).orElseThrow(() -> ProblemException.notFound("workflow", id));
  }

  /** The step named by key or id, which must be waiting at its gate ({@code 409} otherwise). */
  private static StepRun awaitingApproval(WorkflowRun workflow, List<StepRun> all, String ref) {
    StepRun step =
        all.stream()
            .filter(s -> s.key().equals(ref) || s.id().toString().equals(ref))
            .findFirst()
            .orElseThrow(() -> ProblemException.notFound("step", ref));
    if (step.state() != StepState.WAITING_APPROVAL) {
      throw ProblemException.conflict(
          "step-not-awaiting-approval",
          "step '%s' of workflow %s is %s, not waiting_approval"
              .formatted(step.key(), workflow.id(), step.state().value()));
    }
    return step;
  }

  private static void checkComment(String text, String what) {
    if (text != null && text.length() > COMMENT_MAX) {
      throw ProblemException.badRequest(
          "invalid-" + what, what + " is at most " + COMMENT_MAX + " characters");
    }
  }
}
