package dev.atelier.orchestrator.model;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * What one event did to a workflow: the steps to send out, the steps that finished, and whether the
 * workflow's status changed. The engine turns it into rows and outbox messages.
 */
public final class Transition {

  private final WorkflowStatus statusBefore;
  private final List<StepRun> dispatched = new ArrayList<>();
  private final List<StepRun> succeeded = new ArrayList<>();
  private final List<StepRun> failed = new ArrayList<>();
  private final List<StepRun> retryScheduled = new ArrayList<>();
  private final List<StepRun> cancelled = new ArrayList<>();
  private final List<StepRun> awaitingApproval = new ArrayList<>();
  private final List<StepAttempt> withdrawn = new ArrayList<>();
  private boolean looped;

  /** A step's attempt that was sent out, or is still to be. */
  public record StepAttempt(UUID stepId, int attempt) {}

  public Transition(WorkflowStatus statusBefore) {
    this.statusBefore = statusBefore;
  }

  public WorkflowStatus statusBefore() {
    return statusBefore;
  }

  public List<StepRun> dispatched() {
    return dispatched;
  }

  public List<StepRun> succeeded() {
    return succeeded;
  }

  public List<StepRun> failed() {
    return failed;
  }

  public List<StepRun> retryScheduled() {
    return retryScheduled;
  }

  public List<StepRun> cancelled() {
    return cancelled;
  }

  public List<StepRun> awaitingApproval() {
    return awaitingApproval;
  }

  /**
   * Attempts still out that the transition superseded (their step was cancelled, sent back or timed
   * out): a request of theirs not yet published must not be, the worker would run it for nothing.
   */
  public List<StepAttempt> withdrawn() {
    return withdrawn;
  }

  /** Records the step's current attempt as withdrawn when it is out; call before changing it. */
  void withdrawIfOut(StepRun step) {
    if (step.state().isInFlight()) {
      withdrawn.add(new StepAttempt(step.id(), step.attempt()));
    }
  }

  public boolean looped() {
    return looped;
  }

  void markLooped() {
    looped = true;
  }
}
