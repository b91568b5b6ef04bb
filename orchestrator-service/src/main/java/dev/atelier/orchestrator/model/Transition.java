package dev.atelier.orchestrator.model;

import java.util.ArrayList;
import java.util.List;

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
  private boolean looped;

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

  public boolean looped() {
    return looped;
  }

  void markLooped() {
    looped = true;
  }
}
