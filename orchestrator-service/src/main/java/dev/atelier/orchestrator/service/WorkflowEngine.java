package dev.atelier.orchestrator.service;

import dev.atelier.contracts.StepRequested;
import dev.atelier.contracts.Topology;
import dev.atelier.contracts.WorkflowStatusChanged;
import dev.atelier.kit.ids.TimeOrderedIds;
import dev.atelier.kit.tracing.TraceContexts;
import dev.atelier.orchestrator.model.AgentDefinition;
import dev.atelier.orchestrator.model.ProgressEvent;
import dev.atelier.orchestrator.model.StepRun;
import dev.atelier.orchestrator.model.StepState;
import dev.atelier.orchestrator.model.Transition;
import dev.atelier.orchestrator.model.WorkflowDefinition;
import dev.atelier.orchestrator.model.WorkflowRun;
import dev.atelier.orchestrator.model.WorkflowStateMachine;
import dev.atelier.orchestrator.model.WorkflowStatus;
import dev.atelier.orchestrator.repository.OutboxRepository;
import dev.atelier.orchestrator.repository.StepRepository;
import dev.atelier.orchestrator.repository.WorkflowEventRepository;
import dev.atelier.orchestrator.repository.WorkflowRepository;
import io.opentelemetry.context.Scope;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.jboss.logging.Logger;

/**
 * Turns the state machine's transitions into rows and outbox messages, in the caller's transaction,
 * and runs the time-driven transitions (due retries, timeouts) for the scheduler.
 */
@ApplicationScoped
public class WorkflowEngine {

  private static final Logger LOG = Logger.getLogger(WorkflowEngine.class);

  /** The step-metadata key that names the workflow's team. */
  public static final String TEAM_METADATA = "atelier.team";

  private final WorkflowStateMachine machine;
  private final WorkflowRepository workflows;
  private final StepRepository steps;
  private final AgentService agents;
  private final WorkflowDefinitionService definitions;
  private final Outbox outbox;
  private final WorkflowMetrics metrics;
  private final AfterCommit afterCommit;
  private final TraceContexts traces;
  private final WorkflowEventRepository events;

  WorkflowEngine(
      WorkflowStateMachine machine,
      WorkflowRepository workflows,
      StepRepository steps,
      AgentService agents,
      WorkflowDefinitionService definitions,
      Outbox outbox,
      WorkflowMetrics metrics,
      AfterCommit afterCommit,
      TraceContexts traces,
      WorkflowEventRepository events) {
    this.machine = machine;
    this.workflows = workflows;
    this.steps = steps;
    this.agents = agents;
    this.definitions = definitions;
    this.outbox = outbox;
    this.metrics = metrics;
    this.afterCommit = afterCommit;
    this.traces = traces;
    this.events = events;
  }

  /** Timestamps as PostgreSQL keeps them, so what is returned equals what is read back. */
  public static Instant now() {
    return Instant.now().truncatedTo(ChronoUnit.MICROS);
  }

  /** Writes back an existing workflow's changed steps and status, then queues the messages. */
  public void apply(
      WorkflowRun workflow, List<StepRun> all, WorkflowDefinition definition, Transition t) {
    steps.updateChanged(all);
    if (t.statusBefore() != workflow.status()) {
      workflows.updateStatus(workflow);
    } else {
      workflows.touch(workflow.id(), now());
    }
    publish(workflow, all, definition, t);
  }

  /**
   * Queues what a transition sends: a {@link StepRequested} per dispatched step and a {@link
   * WorkflowStatusChanged} when the status changed, and drops the unsent requests of the attempts
   * it superseded; counts it once committed.
   */
  public void publish(
      WorkflowRun workflow, List<StepRun> all, WorkflowDefinition definition, Transition t) {
    List<OutboxRepository.Message> messages = new ArrayList<>();
    Map<String, String> metadata = t.dispatched().isEmpty() ? null : stepMetadata(workflow);
    for (StepRun s : t.dispatched()) {
      AgentDefinition agent = agents.version(s.role(), s.agentVersion());
      StepRequested request =
          new StepRequested(
              TimeOrderedIds.next(),
              StepRequested.TYPE,
              now(),
              workflow.id(),
              s.id(),
              s.key(),
              s.attempt(),
              agent.toSpec(),
              workflow.requirement(),
              machine.inputsOf(s, all, definition),
              s.deadlineAt(),
              workflow.budgetRemainingUsd(),
              workflow.budgetUsd(),
              s.feedback(),
              metadata);
      messages.add(
          new OutboxRepository.Message(
              Topology.STEPS_EXCHANGE, Topology.stepRoutingKey(s.role()), request));
    }
    if (t.statusBefore() != workflow.status()) {
      WorkflowStatusChanged changed =
          new WorkflowStatusChanged(
              TimeOrderedIds.next(),
              WorkflowStatusChanged.TYPE,
              now(),
              workflow.id(),
              workflow.definitionName(),
              workflow.definitionVersion(),
              workflow.title(),
              workflow.team(),
              workflow.status().value(),
              t.statusBefore() == null ? null : t.statusBefore().value(),
              workflow.failureReason());
      messages.add(
          new OutboxRepository.Message(
              Topology.WORKFLOW_EVENTS_EXCHANGE,
              Topology.workflowStatusRoutingKey(workflow.status().value()),
              changed));
      LOG.infof(
          "workflow %s (%s): %s -> %s%s",
          workflow.id(),
          workflow.definitionName(),
          changed.previousStatus() == null ? "new" : changed.previousStatus(),
          changed.status(),
          changed.reason() == null ? "" : " (" + changed.reason() + ")");
    }
    outbox.withdraw(workflow.id(), t.withdrawn());
    outbox.addAll(messages);
    logProgress(workflow, t);
    List<Runnable> counts = new ArrayList<>();
    t.dispatched().forEach(s -> counts.add(() -> metrics.stepDispatched(s.role())));
    t.succeeded().forEach(s -> counts.add(() -> metrics.stepCompleted(s.role())));
    t.failed().forEach(s -> counts.add(() -> metrics.stepFailed(s.role())));
    t.retryScheduled().forEach(s -> counts.add(() -> metrics.stepRetried(s.role(), s.errorCode())));
    if (t.statusBefore() != workflow.status()) {
      if (t.statusBefore() == null) {
        counts.add(() -> metrics.submitted(workflow.definitionName()));
      }
      if (workflow.status().isTerminal()) {
        counts.add(() -> metrics.finished(workflow));
      }
    }
    if (!counts.isEmpty()) {
      afterCommit.run(() -> counts.forEach(Runnable::run));
    }
  }

  /**
   * The workflow's metadata plus its team as {@value #TEAM_METADATA}, so workers and the gateway
   * attribute the step's calls to it; the workflow's own team wins over a submitted key of that
   * name.
   */
  static Map<String, String> stepMetadata(WorkflowRun workflow) {
    Map<String, String> metadata = new HashMap<>(workflow.metadata());
    metadata.put(TEAM_METADATA, workflow.team());
    return metadata;
  }

  /** Appends what the transition did to the workflow's progress log, in the same transaction. */
  private void logProgress(WorkflowRun workflow, Transition t) {
    Instant now = now();
    List<ProgressEvent> log = new ArrayList<>();
    boolean statusChanged = t.statusBefore() != workflow.status();
    if (statusChanged && t.statusBefore() == null) {
      // A new workflow: its start comes before its first steps.
      log.add(statusEvent(workflow, now));
    }
    t.succeeded().forEach(s -> log.add(stepEvent(workflow, s, "step.succeeded", now)));
    t.failed().forEach(s -> log.add(stepEvent(workflow, s, "step.failed", now)));
    t.retryScheduled().forEach(s -> log.add(stepEvent(workflow, s, "step.retry_scheduled", now)));
    t.cancelled().forEach(s -> log.add(stepEvent(workflow, s, "step.cancelled", now)));
    t.dispatched().forEach(s -> log.add(stepEvent(workflow, s, "step.dispatched", now)));
    t.awaitingApproval()
        .forEach(s -> log.add(stepEvent(workflow, s, "step.waiting_approval", now)));
    if (statusChanged && t.statusBefore() != null) {
      log.add(statusEvent(workflow, now));
    }
    events.append(workflow.id(), log);
  }

  private static ProgressEvent statusEvent(WorkflowRun w, Instant now) {
    return new ProgressEvent(
        0,
        "workflow." + w.status().value(),
        w.id(),
        w.status().value(),
        null,
        null,
        null,
        null,
        w.failureReason(),
        w.usage(),
        w.budgetUsd(),
        w.spentUsd(),
        now);
  }

  private static ProgressEvent stepEvent(WorkflowRun w, StepRun s, String type, Instant now) {
    boolean error = type.equals("step.failed") || type.equals("step.retry_scheduled");
    return new ProgressEvent(
        0,
        type,
        w.id(),
        s.state().value(),
        s.key(),
        s.id(),
        s.attempt(),
        error ? s.errorCode() : null,
        error ? s.errorMessage() : null,
        w.usage(),
        null,
        null,
        now);
  }

  /**
   * Dispatches the workflow's due retries and times out its overdue attempts. Skips the workflow
   * when another transaction holds it (a result being applied, another replica's scheduler); the
   * next tick comes back to it.
   */
  @Transactional
  public void processDue(UUID workflowId) {
    WorkflowRun workflow = workflows.tryLock(workflowId).orElse(null);
    if (workflow == null || workflow.status().isTerminal()) {
      return;
    }
    List<StepRun> all = steps.findByWorkflow(workflowId);
    WorkflowDefinition definition =
        definitions.version(workflow.definitionName(), workflow.definitionVersion());
    Instant now = now();
    WorkflowStatus before = workflow.status();
    boolean changed = false;
    // Messages caused by the clock join the workflow's own trace.
    try (Scope ignored = traces.extract(workflow.traceContext()).makeCurrent()) {
      for (StepRun s : all) {
        if (workflow.status().isTerminal()) {
          break;
        }
        Transition t = null;
        if (s.state() == StepState.RETRY_SCHEDULED && !s.nextAttemptAt().isAfter(now)) {
          LOG.infof(
              "workflow %s: retrying step %s (attempt %d)", workflowId, s.key(), s.attempt() + 1);
          t = machine.retryDue(workflow, all, definition, s, now);
        } else if (s.state().isInFlight()
            && s.deadlineAt() != null
            && !s.deadlineAt().isAfter(now)) {
          t = overdue(workflow, all, definition, s, now);
          changed = true; // a moved deadline is saved too
        }
        if (t != null) {
          // Published per transition: each one's status change is announced exactly once.
          publish(workflow, all, definition, t);
          changed = true;
        }
      }
    }
    if (changed) {
      steps.updateChanged(all);
      if (workflow.status() != before) {
        workflows.updateStatus(workflow);
      } else {
        workflows.touch(workflowId, now);
      }
    }
  }

  /**
   * An attempt past its deadline: timed out, unless its request never left (the broker is
   * unreachable), so that no worker could have run it. That attempt is not over: it gets its whole
   * timeout again from now, in the step and in the waiting request, which the worker checks when it
   * arrives; {@code null} then.
   */
  private Transition overdue(
      WorkflowRun workflow,
      List<StepRun> all,
      WorkflowDefinition definition,
      StepRun s,
      Instant now) {
    Instant postponed = now.plus(definition.step(s.key()).orElseThrow().timeout());
    if (s.state() == StepState.DISPATCHED
        && outbox.postponeUnsent(workflow.id(), s.id(), s.attempt(), postponed)) {
      LOG.warnf(
          "workflow %s: step %s attempt %d reached its deadline with its request still unsent"
              + " (is the broker reachable?); deadline moved to %s",
          workflow.id(), s.key(), s.attempt(), postponed);
      s.postponeDeadline(postponed);
      return null;
    }
    LOG.warnf("workflow %s: step %s attempt %d timed out", workflow.id(), s.key(), s.attempt());
    return machine.failed(
        workflow,
        all,
        definition,
        s,
        WorkflowStateMachine.TIMEOUT,
        "no result by the deadline " + s.deadlineAt() + " (attempt " + s.attempt() + ")",
        true,
        null,
        null,
        now);
  }
}
