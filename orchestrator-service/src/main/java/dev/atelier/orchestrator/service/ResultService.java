package dev.atelier.orchestrator.service;

import dev.atelier.contracts.AtelierEvent;
import dev.atelier.contracts.StepCompleted;
import dev.atelier.contracts.StepFailed;
import dev.atelier.contracts.Utf16;
import dev.atelier.orchestrator.model.StepRun;
import dev.atelier.orchestrator.model.Transition;
import dev.atelier.orchestrator.model.WorkflowDefinition;
import dev.atelier.orchestrator.model.WorkflowRun;
import dev.atelier.orchestrator.model.WorkflowStateMachine;
import dev.atelier.orchestrator.repository.ProcessedEventRepository;
import dev.atelier.orchestrator.repository.StepRepository;
import dev.atelier.orchestrator.repository.WorkflowRepository;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.jboss.logging.Logger;

/**
 * Applies step results from the workers. Each result is handled in one transaction that records its
 * event id, locks its workflow, changes the steps and queues the next messages — so a redelivered
 * or duplicated result changes nothing, and results of parallel steps of one workflow are applied
 * one after the other.
 */
@ApplicationScoped
public class ResultService {

  private static final Logger LOG = Logger.getLogger(ResultService.class);

  /** What a result does to its step, once it is known to be the awaited one. */
  @FunctionalInterface
  private interface Apply {
    Transition to(
        WorkflowRun workflow,
        List<StepRun> steps,
        WorkflowDefinition definition,
        StepRun step,
        Instant now);
  }

  private final ProcessedEventRepository processed;
  private final WorkflowRepository workflows;
  private final StepRepository steps;
  private final WorkflowDefinitionService definitions;
  private final WorkflowStateMachine machine;
  private final WorkflowEngine engine;

  ResultService(
      ProcessedEventRepository processed,
      WorkflowRepository workflows,
      StepRepository steps,
      WorkflowDefinitionService definitions,
      WorkflowStateMachine machine,
      WorkflowEngine engine) {
    this.processed = processed;
    this.workflows = workflows;
    this.steps = steps;
    this.definitions = definitions;
    this.machine = machine;
    this.engine = engine;
  }

  /** Handles a {@link StepCompleted} or {@link StepFailed}; other events are logged and dropped. */
  @Transactional
  public void handle(AtelierEvent event) {
    if (event instanceof StepCompleted c) {
      apply(
          c,
          c.stepId(),
          c.attempt(),
          (w, all, def, step, now) ->
              machine.completed(
                  w,
                  all,
                  def,
                  step,
                  c.outputs(),
                  storable(c.verdict(), MAX_CODE),
                  storable(c.summary(), MAX_SUMMARY),
                  c.startedAt(),
                  now));
    } else if (event instanceof StepFailed f) {
      apply(
          f,
          f.stepId(),
          f.attempt(),
          (w, all, def, step, now) ->
              machine.failed(
                  w,
                  all,
                  def,
                  step,
                  f.errorCode() == null ? "unknown" : storable(f.errorCode(), MAX_CODE),
                  f.message() == null ? "" : storable(f.message(), MAX_MESSAGE),
                  f.retryable(),
                  f.startedAt(),
                  f.budgetScope(),
                  now));
    } else {
      LOG.warnf("ignoring a %s event %s on the results queue", event.type(), event.eventId());
    }
  }

  /** Longest error code and verdict stored; a result's longer text is cut with an ellipsis. */
  static final int MAX_CODE = 100;

  /** Longest failure message stored (workers send at most a few hundred characters). */
  static final int MAX_MESSAGE = 2000;

  /** Longest summary stored (workers send one line). */
  static final int MAX_SUMMARY = 500;

  /**
   * A result's text as it is stored: U+0000, which PostgreSQL's text cannot hold, becomes U+FFFD,
   * and text past {@code max} characters is cut (never inside a surrogate pair) and ends with an
   * ellipsis. A worker's message may quote a provider's error body; the result is applied rather
   * than failing its transaction on every delivery until dead-lettered, and a workflow's status
   * stays readable whatever a worker sends.
   */
  static String storable(String text, int max) {
    if (text == null) {
      return null;
    }
    String stored = text.indexOf('\0') < 0 ? text : text.replace('\0', '\uFFFD');
    if (stored.length() <= max) {
      return stored;
    }
    return stored.substring(0, Utf16.cutAt(stored, max - 1)) + "\u2026";
  }

  private void apply(AtelierEvent event, UUID stepId, int attempt, Apply apply) {
    if (!processed.markProcessed(event.eventId())) {
      LOG.debugf("event %s was handled before; ignoring the duplicate", event.eventId());
      return;
    }
    WorkflowRun workflow =
        event.workflowId() == null ? null : workflows.lock(event.workflowId()).orElse(null);
    if (workflow == null) {
      LOG.warnf(
          "ignoring %s %s: unknown workflow %s", event.type(), event.eventId(), event.workflowId());
      return;
    }
    List<StepRun> all = steps.findByWorkflow(workflow.id());
    StepRun step = all.stream().filter(s -> s.id().equals(stepId)).findFirst().orElse(null);
    if (step == null) {
      LOG.warnf(
          "ignoring %s %s: workflow %s has no step %s",
          event.type(), event.eventId(), workflow.id(), stepId);
      return;
    }
    if (workflow.status().isTerminal() || !step.awaits(attempt)) {
      // A result of a superseded attempt (retried, timed out, looped, sent back) or of a finished
      // (completed, failed, cancelled, budget_exceeded) workflow.
      LOG.infof(
          "ignoring late %s %s for step %s attempt %d: the step is %s at attempt %d, the"
              + " workflow %s",
          event.type(),
          event.eventId(),
          step.key(),
          attempt,
          step.state().value(),
          step.attempt(),
          workflow.status().value());
      return;
    }
    WorkflowDefinition definition =
        definitions.version(workflow.definitionName(), workflow.definitionVersion());
    Transition t = apply.to(workflow, all, definition, step, WorkflowEngine.now());
    engine.apply(workflow, all, definition, t);
    LOG.debugf(
        "workflow %s: %s of step %s applied; dispatched %s; workflow %s",
        workflow.id(),
        event.type(),
        step.key(),
        t.dispatched().stream().map(StepRun::key).toList(),
        workflow.status().value());
  }
}
