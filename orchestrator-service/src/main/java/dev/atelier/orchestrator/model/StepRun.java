package dev.atelier.orchestrator.model;

import dev.atelier.contracts.ArtifactRef;
import dev.atelier.kit.ids.TimeOrderedIds;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

/**
 * One step of one workflow as stored, with the transitions of its state machine. Each transition
 * marks the step changed so only changed rows are written back.
 */
public final class StepRun {

  private final UUID id;
  private final UUID workflowId;
  private final String key;
  private final int position;
  private final String role;
  private final int agentVersion;
  private final Usage usage;
  private StepState state;
  private int attempt;
  private int tries;
  private int loopCount;
  private String feedback;
  private List<ArtifactRef> extraInputs;
  private List<ArtifactRef> outputs;
  private String verdict;
  private String summary;
  private String errorCode;
  private String errorMessage;
  private Instant nextAttemptAt;
  private Instant deadlineAt;
  private Instant dispatchedAt;
  private Instant startedAt;
  private Instant finishedAt;
  private boolean changed;

  public StepRun(
      UUID id,
      UUID workflowId,
      String key,
      int position,
      String role,
      int agentVersion,
      StepState state,
      int attempt,
      int tries,
      int loopCount,
      String feedback,
      List<ArtifactRef> extraInputs,
      List<ArtifactRef> outputs,
      String verdict,
      String summary,
      String errorCode,
      String errorMessage,
      Instant nextAttemptAt,
      Instant deadlineAt,
      Instant dispatchedAt,
      Instant startedAt,
      Instant finishedAt,
      Usage usage) {
    this.id = id;
    this.workflowId = workflowId;
    this.key = key;
    this.position = position;
    this.role = role;
    this.agentVersion = agentVersion;
    this.state = state;
    this.attempt = attempt;
    this.tries = tries;
    this.loopCount = loopCount;
    this.feedback = feedback;
    this.extraInputs = List.copyOf(extraInputs);
    this.outputs = List.copyOf(outputs);
    this.verdict = verdict;
    this.summary = summary;
    this.errorCode = errorCode;
    this.errorMessage = errorMessage;
    this.nextAttemptAt = nextAttemptAt;
    this.deadlineAt = deadlineAt;
    this.dispatchedAt = dispatchedAt;
    this.startedAt = startedAt;
    this.finishedAt = finishedAt;
    this.usage = usage;
  }

  /** A new step of a new workflow, waiting for its needs. */
  public static StepRun pending(
      UUID workflowId, String key, int position, String role, int agentVersion) {
    StepRun s =
        new StepRun(
            TimeOrderedIds.next(),
            workflowId,
            key,
            position,
            role,
            agentVersion,
            StepState.PENDING,
            0,
            0,
            0,
            null,
            List.of(),
            List.of(),
            null,
            null,
            null,
            null,
            null,
            null,
            null,
            null,
            null,
            Usage.NONE);
    s.changed = true;
    return s;
  }

  /**
   * Sends out a new attempt. From {@link StepState#PENDING} it starts a round (its first try); from
   * {@link StepState#RETRY_SCHEDULED} it is the next try of the round.
   */
  public void dispatch(Instant now, Duration timeout) {
    if (state != StepState.PENDING
        && state != StepState.RETRY_SCHEDULED
        && state != StepState.WAITING_APPROVAL) {
      throw new IllegalStateException("cannot dispatch step " + key + " in state " + state);
    }
    tries = state == StepState.RETRY_SCHEDULED ? tries + 1 : 1;
    attempt++;
    state = StepState.DISPATCHED;
    dispatchedAt = now;
    deadlineAt = now.plus(timeout);
    nextAttemptAt = null;
    startedAt = null;
    finishedAt = null;
    changed = true;
  }

  /**
   * Moves the deadline of the attempt in flight: its request has not reached the broker yet, so no
   * worker could have run it.
   */
  public void postponeDeadline(Instant deadline) {
    if (state != StepState.DISPATCHED) {
      throw new IllegalStateException("step " + key + " in state " + state + " has no request out");
    }
    deadlineAt = deadline;
    changed = true;
  }

  /** Its needs are met, but a person must approve its start. */
  public void awaitApproval(Instant now) {
    if (state != StepState.PENDING) {
      throw new IllegalStateException(
          "step " + key + " in state " + state + " cannot await approval");
    }
    this.state = StepState.WAITING_APPROVAL;
    this.nextAttemptAt = null;
    this.deadlineAt = null;
    this.finishedAt = null;
    changed = true;
  }

  /**
   * Approved: sends out its attempt; a non-blank {@code comment} becomes the feedback the agent
   * receives.
   */
  public void approve(String comment, Instant now, Duration timeout) {
    if (state != StepState.WAITING_APPROVAL) {
      throw new IllegalStateException(
          "step " + key + " in state " + state + " is not awaiting approval");
    }
    if (comment != null && !comment.isBlank()) {
      this.feedback = "Approved with this comment: " + comment.strip();
    }
    dispatch(now, timeout);
  }

  /**
   * A failed or cancelled step of a failed or budget-stopped workflow goes back to wait for its
   * needs; its attempt counter keeps counting, so the worker's writes of the new attempts do not
   * collide.
   */
  public void reopen() {
    if (state != StepState.FAILED && state != StepState.CANCELLED) {
      throw new IllegalStateException("step " + key + " in state " + state + " cannot be reopened");
    }
    this.state = StepState.PENDING;
    this.nextAttemptAt = null;
    this.deadlineAt = null;
    this.finishedAt = null;
    changed = true;
  }

  /** Whether a result for {@code resultAttempt} is the one this step waits for. */
  public boolean awaits(int resultAttempt) {
    return state.isInFlight() && attempt == resultAttempt;
  }

  public void succeed(
      List<ArtifactRef> outputs, String verdict, String summary, Instant startedAt, Instant now) {
    this.state = StepState.SUCCEEDED;
    this.outputs = List.copyOf(outputs);
    this.verdict = verdict;
    this.summary = summary;
    this.startedAt = startedAt;
    this.finishedAt = now;
    this.deadlineAt = null;
    this.errorCode = null;
    this.errorMessage = null;
    changed = true;
  }

  public void scheduleRetry(
      String code, String message, Instant startedAt, Instant at, Instant now) {
    this.state = StepState.RETRY_SCHEDULED;
    this.errorCode = code;
    this.errorMessage = message;
    this.startedAt = startedAt;
    this.finishedAt = now;
    this.deadlineAt = null;
    this.nextAttemptAt = at;
    changed = true;
  }

  /** The failed try does not count towards the retry policy's attempts. */
  public void forgiveTry() {
    tries = Math.max(0, tries - 1);
    changed = true;
  }

  public void fail(String code, String message, Instant startedAt, Instant now) {
    this.state = StepState.FAILED;
    this.errorCode = code;
    this.errorMessage = message;
    this.startedAt = startedAt;
    this.finishedAt = now;
    this.deadlineAt = null;
    this.nextAttemptAt = null;
    changed = true;
  }

  public void cancel(Instant now) {
    this.state = StepState.CANCELLED;
    this.finishedAt = now;
    this.deadlineAt = null;
    this.nextAttemptAt = null;
    changed = true;
  }

  /**
   * Puts a succeeded step back to run again as a new round, because a later step's verdict looped
   * the workflow back. Its last outputs stay visible until the new round replaces them.
   */
  public void requeue(String feedback, List<ArtifactRef> extraInputs) {
    this.state = StepState.PENDING;
    // Set as given: a step sent back without feedback of its own runs on its new inputs only, not
    // on what an earlier round told it about outputs since replaced.
    this.feedback = feedback;
    this.extraInputs = List.copyOf(extraInputs);
    this.deadlineAt = null;
    this.nextAttemptAt = null;
    changed = true;
  }

  public void countLoop() {
    loopCount++;
    changed = true;
  }

  public boolean isChanged() {
    return changed;
  }

  public UUID id() {
    return id;
  }

  public UUID workflowId() {
    return workflowId;
  }

  public String key() {
    return key;
  }

  public int position() {
    return position;
  }

  public String role() {
    return role;
  }

  public int agentVersion() {
    return agentVersion;
  }

  public StepState state() {
    return state;
  }

  public int attempt() {
    return attempt;
  }

  public int tries() {
    return tries;
  }

  public int loopCount() {
    return loopCount;
  }

  public String feedback() {
    return feedback;
  }

  public List<ArtifactRef> extraInputs() {
    return extraInputs;
  }

  public List<ArtifactRef> outputs() {
    return outputs;
  }

  public String verdict() {
    return verdict;
  }

  public String summary() {
    return summary;
  }

  public String errorCode() {
    return errorCode;
  }

  public String errorMessage() {
    return errorMessage;
  }

  public Instant nextAttemptAt() {
    return nextAttemptAt;
  }

  public Instant deadlineAt() {
    return deadlineAt;
  }

  public Instant dispatchedAt() {
    return dispatchedAt;
  }

  public Instant startedAt() {
    return startedAt;
  }

  public Instant finishedAt() {
    return finishedAt;
  }

  public Usage usage() {
    return usage;
  }
}
