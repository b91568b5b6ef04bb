package dev.atelier.orchestrator.model;

import dev.atelier.contracts.ArtifactRef;
import dev.atelier.contracts.StepFailed;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.DoubleSupplier;

/**
 * The rules of a workflow run, free of I/O: which steps start, what a result or a failure does,
 * when a loop fires, when the workflow ends. Callers hold the workflow's row lock and pass all its
 * steps; the machine changes them in memory and reports what changed in a {@link Transition}.
 */
public final class WorkflowStateMachine {

  /** The error code of an attempt that produced no result before its deadline. */
  public static final String TIMEOUT = "timeout";

  /**
   * The error code of an attempt whose LLM call the gateway refused because a budget could not
   * admit it: the workflow stops in {@link WorkflowStatus#BUDGET_EXCEEDED}, whatever the retry
   * policy says (another attempt would be refused the same way).
   */
  public static final String BUDGET_EXCEEDED = dev.atelier.contracts.StepFailed.BUDGET_EXCEEDED;

  /**
   * A worker's refusal to run an attempt it took for one of an ended workflow (the agent worker's
   * {@code EndedWorkflows}).
   */
  public static final String WORKFLOW_ENDED = "workflow_ended";

  private final DoubleSupplier random;

  /**
   * @param random uniform values in [0, 1) for retry jitter
   */
  public WorkflowStateMachine(DoubleSupplier random) {
    this.random = random;
  }

  /** Sends out the steps that need nothing. */
  public Transition start(
      WorkflowRun workflow, List<StepRun> steps, WorkflowDefinition definition, Instant now) {
    Transition t = new Transition(null);
    dispatchReady(workflow, steps, definition, now, t);
    return t;
  }

  /**
   * A step's awaited attempt succeeded: record it, loop back if its verdict says so, start what is
   * now ready, and complete the workflow when every step is done.
   */
  public Transition completed(
      WorkflowRun workflow,
      List<StepRun> steps,
      WorkflowDefinition definition,
      StepRun step,
      List<ArtifactRef> outputs,
      String verdict,
      String summary,
      Instant startedAt,
      Instant now) {
    Transition t = new Transition(workflow.status());
    step.succeed(outputs, verdict, summary, startedAt, now);
    t.succeeded().add(step);
    LoopPolicy loop = stepDefinition(definition, step).loop();
    if (loop != null
        && verdict != null
        && loop.onVerdict().equals(verdict)
        && step.loopCount() < loop.maxIterations()) {
      loopBack(steps, definition, step, loop, t);
    }
    dispatchReady(workflow, steps, definition, now, t);
    if (steps.stream().allMatch(s -> s.state().isSatisfied())) {
      workflow.complete(now);
    }
    return t;
  }

  /**
   * A step's awaited attempt failed (or timed out). Retry it per its policy, or fail it and the
   * workflow, cancelling the work still out.
   *
   * @param budgetScope with {@code budget_exceeded}, the scope of the budget that refused the
   *     step's LLM call as the worker named it; null otherwise or when it did not
   */
  public Transition failed(
      WorkflowRun workflow,
      List<StepRun> steps,
      WorkflowDefinition definition,
      StepRun step,
      String errorCode,
      String message,
      boolean retryable,
      Instant startedAt,
      String budgetScope,
      Instant now) {
    Transition t = new Transition(workflow.status());
    // A timed-out attempt's request may still be unsent (the broker refused it): drop it. A
    // worker's failure has consumed its request, so there is nothing to look for.
    if (TIMEOUT.equals(errorCode)) {
      t.withdrawIfOut(step);
    }
    if (BUDGET_EXCEEDED.equals(errorCode)) {
      step.fail(errorCode, message, startedAt, now);
      t.failed().add(step);
      cancelActive(steps, step, now, t);
      workflow.exceedBudget(
          "step '%s' (%s) was refused an LLM call by a budget: %s; %s"
              .formatted(step.key(), step.role(), message, spend(workflow)),
          knownScope(budgetScope),
          now);
      return t;
    }
    RetryPolicy policy = stepDefinition(definition, step).retry();
    if (WORKFLOW_ENDED.equals(errorCode)) {
      // The worker took this live attempt for one of an ended workflow: it heard of an end that,
      // by another orchestrator replica's clock, came after the attempt was requested (this
      // workflow was resumed since). Not the step's doing: sent again, without spending a try.
      step.scheduleRetry(errorCode, message, startedAt, now.plus(policy.backoff(1, 0.5)), now);
      step.forgiveTry();
      t.retryScheduled().add(step);
      return t;
    }
    boolean notRetryable = !retryable || policy.nonRetryableErrors().contains(errorCode);
    if (!notRetryable && step.tries() < policy.maxAttempts()) {
      Instant at = now.plus(policy.backoff(step.tries(), random.getAsDouble()));
      step.scheduleRetry(errorCode, message, startedAt, at, now);
      t.retryScheduled().add(step);
      return t;
    }
    step.fail(errorCode, message, startedAt, now);
    t.failed().add(step);
    cancelActive(steps, step, now, t);
    String why =
        notRetryable
            ? "a non-retryable error"
            : "%d attempt%s".formatted(step.tries(), step.tries() == 1 ? "" : "s");
    workflow.fail(
        "step '%s' (%s) failed after %s: %s: %s"
            .formatted(step.key(), step.role(), why, errorCode, message),
        now);
    return t;
  }

  /** The budget scopes the gateway names; anything else is stored as unknown (null). */
  private static final java.util.Set<String> BUDGET_SCOPES =
      java.util.Set.of(
          StepFailed.BUDGET_SCOPE_WORKFLOW,
          StepFailed.BUDGET_SCOPE_TEAM,
          StepFailed.BUDGET_SCOPE_GLOBAL);

  private static String knownScope(String scope) {
    return scope != null && BUDGET_SCOPES.contains(scope) ? scope : null;
  }

  /**
   * A person cancelled the workflow: every step still out, scheduled, waiting for approval or for
   * its needs is cancelled; results still on their way are ignored.
   */
  public Transition cancel(WorkflowRun workflow, List<StepRun> steps, String reason, Instant now) {
    Transition t = new Transition(workflow.status());
    for (StepRun s : steps) {
      if (s.state() == StepState.PENDING) {
        s.cancel(now);
        t.cancelled().add(s);
      }
    }
    cancelActive(steps, null, now, t);
    workflow.cancel(reason, now);
    return t;
  }

  /** A person approved a gated step: it is sent out, with the comment as feedback. */
  public Transition approve(
      WorkflowRun workflow,
      List<StepRun> steps,
      WorkflowDefinition definition,
      StepRun step,
      String comment,
      Instant now) {
    Transition t = new Transition(workflow.status());
    if (stopIfOverBudget(workflow, steps, now, t)) {
      return t;
    }
    step.approve(comment, now, stepDefinition(definition, step).timeout());
    t.dispatched().add(step);
    settle(workflow, steps, now);
    return t;
  }

  /**
   * A person rejected a gated step. With {@code onReject} the work goes back to that earlier step
   * (it and every step after it run again), the comment being its feedback; without, the step fails
   * and the workflow with it, the comment being the reason.
   */
  public Transition reject(
      WorkflowRun workflow,
      List<StepRun> steps,
      WorkflowDefinition definition,
      StepRun step,
      String comment,
      Instant now) {
    Transition t = new Transition(workflow.status());
    String because = comment == null || comment.isBlank() ? "(no comment)" : comment.strip();
    String target = stepDefinition(definition, step).onReject();
    if (target == null) {
      step.fail("rejected", because, null, now);
      t.failed().add(step);
      cancelActive(steps, step, now, t);
      workflow.fail(
          "step '%s' (%s) was rejected: %s".formatted(step.key(), step.role(), because), now);
      return t;
    }
    String feedback =
        ("The work was sent back to you: step '%s' (%s) was rejected at its approval gate with"
                + " this comment: %s. Address it and produce a complete new version.")
            .formatted(step.key(), step.role(), because);
    // The target and everything built on it run again: their inputs change. Results of their
    // attempts still out no longer match (the step is pending), so they are ignored.
    List<String> rerun = new ArrayList<>();
    rerun.add(target);
    rerun.addAll(DefinitionGraph.of(definition).descendants(target));
    for (String key : rerun) {
      StepRun s = byKey(steps, key);
      t.withdrawIfOut(s);
      if (key.equals(target)) {
        s.requeue(feedback, s.extraInputs());
      } else if (s.state() != StepState.PENDING) {
        s.requeue(null, List.of());
      }
    }
    t.markLooped();
    dispatchReady(workflow, steps, definition, now, t);
    return t;
  }

  /**
   * Resumes a failed (or budget-stopped) workflow: its failed and cancelled steps wait for their
   * needs again and are sent out as new attempts, as are pending steps whose needs are met;
   * succeeded steps keep their outputs and do not run again.
   */
  public Transition resume(
      WorkflowRun workflow, List<StepRun> steps, WorkflowDefinition definition, Instant now) {
    Transition t = new Transition(workflow.status());
    for (StepRun s : steps) {
      if (s.state() == StepState.FAILED || s.state() == StepState.CANCELLED) {
        s.reopen();
      }
    }
    workflow.reopen(now);
    dispatchReady(workflow, steps, definition, now, t);
    return t;
  }

  /** Sends out the next try of a step whose retry time has come. */
  public Transition retryDue(
      WorkflowRun workflow,
      List<StepRun> steps,
      WorkflowDefinition definition,
      StepRun step,
      Instant now) {
    Transition t = new Transition(workflow.status());
    if (stopIfOverBudget(workflow, steps, now, t)) {
      return t;
    }
    step.dispatch(now, stepDefinition(definition, step).timeout());
    t.dispatched().add(step);
    return t;
  }

  /**
   * The artifacts a step reads: the outputs of every step it needs, directly or not (restricted to
   * the step's declared {@code inputs} when it has some), then what a loop added.
   */
  public List<ArtifactRef> inputsOf(StepRun step, List<StepRun> steps, WorkflowDefinition def) {
    StepDefinition sd = stepDefinition(def, step);
    Set<ArtifactRef> refs = new LinkedHashSet<>();
    for (String ancestor : DefinitionGraph.of(def).ancestors(step.key())) {
      for (ArtifactRef ref : byKey(steps, ancestor).outputs()) {
        if (sd.inputs().isEmpty() || sd.inputs().contains(ref.name())) {
          refs.add(ref);
        }
      }
    }
    refs.addAll(step.extraInputs());
    return List.copyOf(refs);
  }

  private void loopBack(
      List<StepRun> steps,
      WorkflowDefinition definition,
      StepRun looping,
      LoopPolicy loop,
      Transition t) {
    StepRun target = byKey(steps, loop.to());
    int iteration = looping.loopCount() + 1;
    String summary = looping.summary() == null ? "" : " Its summary: " + looping.summary().strip();
    String targetFeedback =
        ("Step '%s' (%s) returned '%s' on your previous output %s (round %d of at most %d).%s"
                + " Its full output is %s. Address every finding and produce a complete new"
                + " version.")
            .formatted(
                looping.key(),
                looping.role(),
                looping.verdict(),
                refs(target.outputs()),
                iteration,
                loop.maxIterations(),
                summary,
                refs(looping.outputs()));
    String loopingFeedback =
        ("This is round %d of this step. Your previous output was %s; check that what it asked"
                + " for is addressed in the new inputs.")
            .formatted(iteration + 1, refs(looping.outputs()));
    List<ArtifactRef> targetExtra = new ArrayList<>(looping.outputs());
    targetExtra.addAll(target.outputs());
    List<ArtifactRef> loopingExtra = List.copyOf(looping.outputs());
    looping.countLoop();
    for (String key : DefinitionGraph.of(definition).between(loop.to(), looping.key())) {
      StepRun s = byKey(steps, key);
      t.withdrawIfOut(s);
      if (s == target) {
        s.requeue(targetFeedback, targetExtra);
      } else if (s == looping) {
        s.requeue(loopingFeedback, loopingExtra);
      } else {
        s.requeue(null, List.of());
      }
    }
    t.markLooped();
  }

  private void dispatchReady(
      WorkflowRun workflow,
      List<StepRun> steps,
      WorkflowDefinition definition,
      Instant now,
      Transition t) {
    if (workflow.status().isTerminal()) {
      return;
    }
    List<StepRun> ready = new ArrayList<>();
    boolean sends = false;
    for (StepRun s : steps) {
      if (s.state() != StepState.PENDING) {
        continue;
      }
      StepDefinition sd = stepDefinition(definition, s);
      if (sd.needs().stream().allMatch(n -> byKey(steps, n).state().isSatisfied())) {
        ready.add(s);
        sends |= !sd.approval();
      }
    }
    // A gate costs nothing; sending a step out does, so only that checks the spend.
    if (sends && stopIfOverBudget(workflow, steps, now, t)) {
      return;
    }
    for (StepRun s : ready) {
      StepDefinition sd = stepDefinition(definition, s);
      if (sd.approval()) {
        s.awaitApproval(now);
        t.awaitingApproval().add(s);
      } else {
        s.dispatch(now, sd.timeout());
        t.dispatched().add(s);
      }
    }
    settle(workflow, steps, now);
  }

  /**
   * Before a step goes out: when the workflow's recorded spend has reached its budget, nothing is
   * sent; the workflow stops in {@link WorkflowStatus#BUDGET_EXCEEDED} and the work still out is
   * cancelled (its results would come to a finished workflow). Steps not sent stay pending, so a
   * retry with a raised budget starts them.
   */
  private static boolean stopIfOverBudget(
      WorkflowRun workflow, List<StepRun> steps, Instant now, Transition t) {
    if (!workflow.budgetExhausted()) {
      return false;
    }
    cancelActive(steps, null, now, t);
    workflow.exceedBudget(
        "the workflow's budget is spent; " + spend(workflow),
        StepFailed.BUDGET_SCOPE_WORKFLOW,
        now);
    return true;
  }

  private static String spend(WorkflowRun workflow) {
    return workflow.budgetUsd() == null
        ? "spent %s USD (the workflow has no budget of its own)"
            .formatted(workflow.spentUsd().toPlainString())
        : "spent %s USD of %s USD"
            .formatted(workflow.spentUsd().toPlainString(), workflow.budgetUsd().toPlainString());
  }

  private static void settle(WorkflowRun workflow, List<StepRun> steps, Instant now) {
    workflow.settle(steps.stream().anyMatch(s -> s.state() == StepState.WAITING_APPROVAL), now);
  }

  /** Cancels every step still out, scheduled or awaiting approval, except {@code except}. */
  private static void cancelActive(List<StepRun> steps, StepRun except, Instant now, Transition t) {
    for (StepRun other : steps) {
      if (other != except
          && (other.state().isInFlight()
              || other.state() == StepState.RETRY_SCHEDULED
              || other.state() == StepState.WAITING_APPROVAL)) {
        t.withdrawIfOut(other);
        other.cancel(now);
        t.cancelled().add(other);
      }
    }
  }

  private static StepDefinition stepDefinition(WorkflowDefinition definition, StepRun step) {
    return definition
        .step(step.key())
        .orElseThrow(
            () ->
                new IllegalStateException(
                    "step "
                        + step.key()
                        + " is not in "
                        + definition.name()
                        + " v"
                        + definition.version()));
  }

  private static StepRun byKey(List<StepRun> steps, String key) {
    return steps.stream()
        .filter(s -> s.key().equals(key))
        .findFirst()
        .orElseThrow(() -> new IllegalStateException("no step " + key));
  }

  private static String refs(List<ArtifactRef> refs) {
    return refs.isEmpty()
        ? "(none)"
        : String.join(", ", refs.stream().map(ArtifactRef::toString).toList());
  }
}
