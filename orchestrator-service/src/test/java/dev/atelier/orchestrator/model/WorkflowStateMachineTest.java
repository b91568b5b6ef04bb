package dev.atelier.orchestrator.model;

import static org.assertj.core.api.Assertions.assertThat;

import dev.atelier.contracts.ArtifactRef;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The workflow rules, without a database or a broker. */
class WorkflowStateMachineTest {

  private static final Instant T0 = Instant.parse("2030-01-01T00:00:00Z");
  private static final RetryPolicy RETRY =
      new RetryPolicy(
          3, Duration.ofSeconds(2), 2.0, Duration.ofSeconds(5), 0.0, List.of("invalid_request"));

  private final WorkflowStateMachine machine = new WorkflowStateMachine(() -> 0.5);

  private static StepDefinition step(String id, String role, List<String> needs, LoopPolicy loop) {
    return new StepDefinition(
        id, role, needs, false, null, loop, RETRY, Duration.ofMinutes(10), null);
  }

  private static final WorkflowDefinition DELIVERY =
      new WorkflowDefinition(
          "software-delivery",
          1,
          null,
          List.of(
              step("analyse", "business-analyst", List.of(), null),
              step("design", "architect", List.of("analyse"), null),
              step("implement", "developer", List.of("design"), null),
              step("test-plan", "tester", List.of("design"), null),
              step(
                  "review",
                  "reviewer",
                  List.of("implement", "test-plan"),
                  new LoopPolicy("changes_requested", "implement", 2)),
              step("document", "technical-writer", List.of("review"), null)),
          null);

  private final WorkflowRun workflow =
      new WorkflowRun(
          UUID.randomUUID(),
          "t",
          "r",
          "software-delivery",
          1,
          "default",
          WorkflowStatus.RUNNING,
          null,
          Map.of(),
          Map.of(),
          null,
          null,
          null,
          T0,
          T0,
          null,
          Usage.NONE);

  private final List<StepRun> steps = new ArrayList<>();

  {
    for (StepDefinition sd : DELIVERY.steps()) {
      steps.add(StepRun.pending(workflow.id(), sd.id(), steps.size(), sd.role(), 1));
    }
  }

  private StepRun step(String key) {
    return steps.stream().filter(s -> s.key().equals(key)).findFirst().orElseThrow();
  }

  private Transition complete(String key, String artifact, String verdict) {
    StepRun s = step(key);
    return machine.completed(
        workflow,
        steps,
        DELIVERY,
        s,
        List.of(new ArtifactRef(artifact, s.attempt())),
        verdict,
        "summary of " + key,
        T0,
        T0.plusSeconds(1));
  }

  private static List<String> keys(List<StepRun> runs) {
    return runs.stream().map(StepRun::key).toList();
  }

  @Test
  void startDispatchesOnlyTheStepsThatNeedNothing() {
    Transition t = machine.start(workflow, steps, DELIVERY, T0);

    assertThat(keys(t.dispatched())).containsExactly("analyse");
    assertThat(step("analyse").attempt()).isEqualTo(1);
    assertThat(step("analyse").deadlineAt()).isEqualTo(T0.plus(Duration.ofMinutes(10)));
    assertThat(step("design").state()).isEqualTo(StepState.PENDING);
    assertThat(t.statusBefore()).isNull();
  }

  @Test
  void parallelBranchesStartTogetherAndTheJoinWaitsForBoth() {
    machine.start(workflow, steps, DELIVERY, T0);
    complete("analyse", "analysis", null);

    assertThat(keys(complete("design", "architecture", null).dispatched()))
        .containsExactly("implement", "test-plan");
    assertThat(complete("test-plan", "test-plan", null).dispatched()).isEmpty();
    assertThat(keys(complete("implement", "code", null).dispatched())).containsExactly("review");
    assertThat(machine.inputsOf(step("review"), steps, DELIVERY))
        .extracting(ArtifactRef::toString)
        .containsExactly("analysis@1", "architecture@1", "code@1", "test-plan@1");
  }

  @Test
  void changesRequestedLoopsBackAtMostMaxIterationsThenProceeds() {
    machine.start(workflow, steps, DELIVERY, T0);
    complete("analyse", "analysis", null);
    complete("design", "architecture", null);
    complete("test-plan", "test-plan", null);
    complete("implement", "code", null);

    Transition first = complete("review", "review", "changes_requested");
    assertThat(first.looped()).isTrue();
    assertThat(keys(first.dispatched())).containsExactly("implement");
    assertThat(step("implement").attempt()).isEqualTo(2);
    assertThat(step("implement").feedback()).contains("changes_requested").contains("review@1");
    assertThat(machine.inputsOf(step("implement"), steps, DELIVERY))
        .extracting(ArtifactRef::toString)
        .containsExactly("analysis@1", "architecture@1", "review@1", "code@1");
    assertThat(step("test-plan").state()).isEqualTo(StepState.SUCCEEDED);
    assertThat(step("review").state()).isEqualTo(StepState.PENDING);

    complete("implement", "code", null);
    complete("review", "review", "changes_requested");
    assertThat(step("implement").attempt()).isEqualTo(3);
    complete("implement", "code", null);

    Transition third = complete("review", "review", "changes_requested");
    assertThat(third.looped()).isFalse();
    assertThat(keys(third.dispatched())).containsExactly("document");
    assertThat(step("review").loopCount()).isEqualTo(2);
    complete("document", "docs", null);
    assertThat(workflow.status()).isEqualTo(WorkflowStatus.COMPLETED);
  }

  @Test
  void retryableFailureIsRetriedWithBackoffUntilAttemptsRunOut() {
    machine.start(workflow, steps, DELIVERY, T0);
    StepRun analyse = step("analyse");

    Transition t =
        machine.failed(workflow, steps, DELIVERY, analyse, "timeout", "slow", true, null, null, T0);
    assertThat(t.retryScheduled()).containsExactly(analyse);
    // A timed-out attempt's request may never have gone out: it must not after its retry.
    assertThat(t.withdrawn()).containsExactly(new Transition.StepAttempt(analyse.id(), 1));
    assertThat(analyse.state()).isEqualTo(StepState.RETRY_SCHEDULED);
    assertThat(analyse.nextAttemptAt()).isEqualTo(T0.plusSeconds(2));

    machine.retryDue(workflow, steps, DELIVERY, analyse, T0.plusSeconds(2));
    assertThat(analyse.attempt()).isEqualTo(2);
    machine.failed(workflow, steps, DELIVERY, analyse, "timeout", "slow", true, null, null, T0);
    assertThat(analyse.nextAttemptAt()).isEqualTo(T0.plusSeconds(4));

    machine.retryDue(workflow, steps, DELIVERY, analyse, T0.plusSeconds(4));
    machine.failed(workflow, steps, DELIVERY, analyse, "timeout", "slow", true, null, null, T0);
    assertThat(analyse.state()).isEqualTo(StepState.FAILED);
    assertThat(workflow.status()).isEqualTo(WorkflowStatus.FAILED);
    assertThat(workflow.failureReason())
        .isEqualTo("step 'analyse' (business-analyst) failed after 3 attempts: timeout: slow");
  }

  @Test
  void aLiveAttemptAWorkerTookForAnEndedWorkflowsIsSentAgainWithoutSpendingATry() {
    machine.start(workflow, steps, DELIVERY, T0);
    StepRun analyse = step("analyse");
    for (int round = 1; round <= 5; round++) {
      Transition t =
          machine.failed(
              workflow, steps, DELIVERY, analyse, "workflow_ended", "ended", true, null, null, T0);
      assertThat(t.retryScheduled()).containsExactly(analyse);
      machine.retryDue(workflow, steps, DELIVERY, analyse, analyse.nextAttemptAt());
    }
    // Five refusals, more than the policy's 3 attempts: the step still has all of them.
    assertThat(analyse.attempt()).isEqualTo(6);
    assertThat(analyse.tries()).isEqualTo(1);
    assertThat(workflow.status()).isEqualTo(WorkflowStatus.RUNNING);
  }

  @Test
  void nonRetryableCodeFailsAtOnceAndCancelsTheParallelBranch() {
    machine.start(workflow, steps, DELIVERY, T0);
    complete("analyse", "analysis", null);
    complete("design", "architecture", null);

    Transition t =
        machine.failed(
            workflow,
            steps,
            DELIVERY,
            step("implement"),
            "invalid_request",
            "bad",
            true,
            null,
            null,
            T0);

    assertThat(keys(t.failed())).containsExactly("implement");
    assertThat(keys(t.cancelled())).containsExactly("test-plan");
    // The cancelled branch's request may still be unsent: it is withdrawn, the failed one's was
    // consumed by the worker that failed it.
    assertThat(t.withdrawn())
        .containsExactly(new Transition.StepAttempt(step("test-plan").id(), 1));
    assertThat(step("review").state()).isEqualTo(StepState.PENDING);
    assertThat(workflow.failureReason()).contains("non-retryable").contains("invalid_request");
  }

  private WorkflowRun budgeted(String budget, String spent) {
    return new WorkflowRun(
        workflow.id(),
        "t",
        "r",
        "software-delivery",
        1,
        "default",
        WorkflowStatus.RUNNING,
        new java.math.BigDecimal(budget),
        Map.of(),
        Map.of(),
        null,
        null,
        null,
        T0,
        T0,
        null,
        new Usage(3, 0, 0, 0, new java.math.BigDecimal(spent), 0));
  }

  @Test
  void aCallRefusedByABudgetStopsTheWorkflowWhateverThePolicyAndCancelsTheOtherBranch() {
    machine.start(workflow, steps, DELIVERY, T0);
    complete("analyse", "analysis", null);
    complete("design", "architecture", null);

    // Retryable by the worker's word and not listed by the policy: still final.
    Transition t =
        machine.failed(
            workflow,
            steps,
            DELIVERY,
            step("implement"),
            "budget_exceeded",
            "402",
            true,
            null,
            null,
            T0);

    assertThat(workflow.status()).isEqualTo(WorkflowStatus.BUDGET_EXCEEDED);
    assertThat(workflow.status().isTerminal()).isTrue();
    assertThat(step("implement").state()).isEqualTo(StepState.FAILED);
    assertThat(step("implement").errorCode()).isEqualTo("budget_exceeded");
    assertThat(keys(t.retryScheduled())).isEmpty();
    assertThat(keys(t.cancelled())).containsExactly("test-plan");
    assertThat(t.withdrawn())
        .containsExactly(new Transition.StepAttempt(step("test-plan").id(), 1));
    assertThat(workflow.failureReason())
        .isEqualTo(
            "step 'implement' (developer) was refused an LLM call by a budget: 402; spent 0 USD"
                + " (the workflow has no budget of its own)");
  }

  /** Which budget refused decides whether a retry needs a raised workflow budget. */
  @Test
  void theRefusingBudgetsScopeDecidesWhetherARetryNeedsARaisedBudget() {
    Map<String, Boolean> needsRaise = new java.util.LinkedHashMap<>();
    Map<String, String> stored = new java.util.LinkedHashMap<>();
    for (String scope : java.util.Arrays.asList("workflow", "team", "global", null, "project")) {
      WorkflowRun w = budgeted("5.00", "1.00");
      List<StepRun> own = new ArrayList<>();
      for (StepDefinition sd : DELIVERY.steps()) {
        own.add(StepRun.pending(w.id(), sd.id(), own.size(), sd.role(), 1));
      }
      machine.start(w, own, DELIVERY, T0);
      StepRun analyse = own.get(0);
      machine.failed(w, own, DELIVERY, analyse, "budget_exceeded", "402", false, null, scope, T0);
      assertThat(w.status()).isEqualTo(WorkflowStatus.BUDGET_EXCEEDED);
      needsRaise.put(String.valueOf(scope), w.needsRaisedBudget());
      stored.put(String.valueOf(scope), String.valueOf(w.budgetScope()));
      w.reopen(T0);
      assertThat(w.budgetScope()).isNull();
      assertThat(w.needsRaisedBudget()).isFalse();
    }
    // Its own budget, or one the worker did not name while it has its own: raise it. A team or
    // global budget is raised at the gateway; an unknown scope is not stored.
    assertThat(needsRaise)
        .containsExactly(
            Map.entry("workflow", true),
            Map.entry("team", false),
            Map.entry("global", false),
            Map.entry("null", true),
            Map.entry("project", true));
    assertThat(stored)
        .containsExactly(
            Map.entry("workflow", "workflow"),
            Map.entry("team", "team"),
            Map.entry("global", "global"),
            Map.entry("null", "null"),
            Map.entry("project", "null"));
    // A spend that reached the budget needs a raise whatever refused.
    WorkflowRun spent = budgeted("1.00", "1.00");
    assertThat(spent.needsRaisedBudget()).isTrue();
  }

  @Test
  void aSpendThatReachedTheBudgetSendsNothingMoreAndCancelsWhatIsOut() {
    WorkflowRun w = budgeted("1.00", "0.40");
    machine.start(w, steps, DELIVERY, T0);
    StepRun analyse = step("analyse");
    machine.completed(w, steps, DELIVERY, analyse, List.of(), null, null, T0, T0);
    assertThat(step("design").state()).isEqualTo(StepState.DISPATCHED);

    WorkflowRun spent = budgeted("1.00", "1.0000");
    Transition t =
        machine.completed(spent, steps, DELIVERY, step("design"), List.of(), null, null, T0, T0);

    assertThat(spent.status()).isEqualTo(WorkflowStatus.BUDGET_EXCEEDED);
    assertThat(t.dispatched()).isEmpty();
    assertThat(step("implement").state()).isEqualTo(StepState.PENDING);
    assertThat(step("test-plan").state()).isEqualTo(StepState.PENDING);
    assertThat(spent.failureReason())
        .isEqualTo("the workflow's budget is spent; spent 1.0000 USD of 1.00 USD");
    assertThat(spent.budgetScope()).isEqualTo("workflow");

    // A raised budget lets the pending steps go out on resume.
    spent.raiseBudget(new java.math.BigDecimal("2"));
    Transition resumed = machine.resume(spent, steps, DELIVERY, T0);
    assertThat(keys(resumed.dispatched())).containsExactly("implement", "test-plan");
    assertThat(spent.status()).isEqualTo(WorkflowStatus.RUNNING);
  }

  @Test
  void aDueRetryIsNotSentOnceTheBudgetIsSpent() {
    WorkflowRun w = budgeted("1.00", "0.10");
    machine.start(w, steps, DELIVERY, T0);
    machine.failed(w, steps, DELIVERY, step("analyse"), "timeout", "slow", true, null, null, T0);
    assertThat(step("analyse").state()).isEqualTo(StepState.RETRY_SCHEDULED);

    WorkflowRun spent = budgeted("1.00", "1.5");
    Transition t = machine.retryDue(spent, steps, DELIVERY, step("analyse"), T0.plusSeconds(5));

    assertThat(t.dispatched()).isEmpty();
    assertThat(keys(t.cancelled())).containsExactly("analyse");
    assertThat(spent.status()).isEqualTo(WorkflowStatus.BUDGET_EXCEEDED);
  }

  @Test
  void backoffGrowsIsCappedAndJittered() {
    RetryPolicy p =
        new RetryPolicy(5, Duration.ofSeconds(1), 3.0, Duration.ofSeconds(5), 0.2, List.of());
    assertThat(p.backoff(1, 0.5)).isEqualTo(Duration.ofSeconds(1));
    assertThat(p.backoff(2, 0.5)).isEqualTo(Duration.ofSeconds(3));
    assertThat(p.backoff(3, 0.5)).isEqualTo(Duration.ofSeconds(5));
    assertThat(p.backoff(1, 0.0)).isEqualTo(Duration.ofMillis(800));
    assertThat(p.backoff(1, 0.999999)).isEqualTo(Duration.ofMillis(1200));
  }

  @Test
  void durationsReadTheWayPeopleWriteThem() {
    assertThat(DurationText.parse("500ms")).isEqualTo(Duration.ofMillis(500));
    assertThat(DurationText.parse("10m")).isEqualTo(Duration.ofMinutes(10));
    assertThat(DurationText.parse("PT1H")).isEqualTo(Duration.ofHours(1));
    assertThat(DurationText.format(Duration.ofSeconds(90))).isEqualTo("90s");
    assertThat(DurationText.format(Duration.ofMinutes(10))).isEqualTo("10m");
  }

  /** Delivery with an approval gate on test-plan that sends rejected work back to design. */
  private static WorkflowDefinition gatedTestPlan() {
    return gated("test-plan", "design");
  }

  /** The delivery definition with an approval gate on {@code stepId}, rejected back to a step. */
  private static WorkflowDefinition gated(String stepId, String onReject) {
    return new WorkflowDefinition(
        "software-delivery",
        1,
        null,
        DELIVERY.steps().stream()
            .map(
                sd ->
                    sd.id().equals(stepId)
                        ? new StepDefinition(
                            sd.id(),
                            sd.role(),
                            sd.needs(),
                            true,
                            onReject,
                            sd.loop(),
                            RETRY,
                            sd.timeout(),
                            null)
                        : sd)
            .toList(),
        null);
  }

  @Test
  void aRejectionWithdrawsTheAttemptsStillOutThatItSendsBack() {
    WorkflowDefinition gated = gatedTestPlan();
    machine.start(workflow, steps, gated, T0);
    for (String key : List.of("analyse", "design")) {
      machine.completed(
          workflow, steps, gated, step(key), List.of(new ArtifactRef(key, 1)), null, null, T0, T0);
    }
    assertThat(step("implement").state()).isEqualTo(StepState.DISPATCHED);

    Transition rejected = machine.reject(workflow, steps, gated, step("test-plan"), "no", T0);

    // implement was out (its request perhaps unsent) and waits for design again; design's new
    // attempt goes out and is not withdrawn.
    assertThat(rejected.withdrawn())
        .containsExactly(new Transition.StepAttempt(step("implement").id(), 1));
    assertThat(keys(rejected.dispatched())).containsExactly("design");
    assertThat(step("design").attempt()).isEqualTo(2);
  }

  @Test
  void aGatedBranchWaitsWhileTheOtherRunsAndARejectionReworksEverythingAfterTheTarget() {
    WorkflowDefinition gated = gatedTestPlan();
    machine.start(workflow, steps, gated, T0);
    for (String key : List.of("analyse", "design")) {
      StepRun s = step(key);
      machine.completed(
          workflow, steps, gated, s, List.of(new ArtifactRef(key, 1)), null, null, T0, T0);
    }
    assertThat(step("implement").state()).isEqualTo(StepState.DISPATCHED);
    assertThat(step("test-plan").state()).isEqualTo(StepState.WAITING_APPROVAL);
    assertThat(workflow.status()).isEqualTo(WorkflowStatus.WAITING_APPROVAL);

    // The other branch's result is applied while the gate waits.
    Transition done =
        machine.completed(
            workflow,
            steps,
            gated,
            step("implement"),
            List.of(new ArtifactRef("code", 1)),
            null,
            null,
            T0,
            T0);
    assertThat(done.dispatched()).isEmpty();
    assertThat(step("implement").state()).isEqualTo(StepState.SUCCEEDED);
    assertThat(workflow.status()).isEqualTo(WorkflowStatus.WAITING_APPROVAL);

    Transition rejected =
        machine.reject(workflow, steps, gated, step("test-plan"), "too thin", T0.plusSeconds(5));
    assertThat(keys(rejected.dispatched())).containsExactly("design");
    assertThat(step("design").attempt()).isEqualTo(2);
    assertThat(step("design").feedback()).contains("'test-plan'", "too thin");
    assertThat(step("implement").state()).isEqualTo(StepState.PENDING);
    assertThat(step("test-plan").state()).isEqualTo(StepState.PENDING);
    assertThat(step("analyse").state()).isEqualTo(StepState.SUCCEEDED);
    assertThat(workflow.status()).isEqualTo(WorkflowStatus.RUNNING);
    assertThat(rejected.statusBefore()).isEqualTo(WorkflowStatus.WAITING_APPROVAL);
  }

  @Test
  void stepsARejectionSendsBackStartCleanOfAnEarlierLoopsFeedback() {
    WorkflowDefinition gated = gated("document", "design");
    machine.start(workflow, steps, gated, T0);
    for (String[] done :
        new String[][] {
          {"analyse", "analysis", null},
          {"design", "architecture", null},
          {"test-plan", "test-plan", null},
          {"implement", "code", null},
          {"review", "review", "changes_requested"},
          {"implement", "code", null},
          {"review", "review", "approved"}
        }) {
      StepRun s = step(done[0]);
      machine.completed(
          workflow,
          steps,
          gated,
          s,
          List.of(new ArtifactRef(done[1], s.attempt())),
          done[2],
          null,
          T0,
          T0);
    }
    assertThat(step("implement").feedback()).contains("changes_requested");
    assertThat(step("document").state()).isEqualTo(StepState.WAITING_APPROVAL);

    machine.reject(workflow, steps, gated, step("document"), "wrong design", T0.plusSeconds(5));

    // implement runs again on a new design: the review of the old code is no input of it now.
    assertThat(step("implement").state()).isEqualTo(StepState.PENDING);
    assertThat(step("implement").feedback()).isNull();
    assertThat(step("implement").extraInputs()).isEmpty();
    assertThat(step("design").feedback()).contains("wrong design");
  }

  @Test
  void cancelStopsEveryUnfinishedStepAndResumeRerunsOnlyWhatFailed() {
    machine.start(workflow, steps, DELIVERY, T0);
    complete("analyse", "analysis", null);
    Transition failed =
        machine.failed(workflow, steps, DELIVERY, step("design"), "bad", "x", false, T0, null, T0);
    assertThat(workflow.status()).isEqualTo(WorkflowStatus.FAILED);
    assertThat(keys(failed.failed())).containsExactly("design");

    Transition resumed = machine.resume(workflow, steps, DELIVERY, T0.plusSeconds(9));
    assertThat(keys(resumed.dispatched())).containsExactly("design");
    assertThat(step("design").attempt()).isEqualTo(2);
    assertThat(step("design").tries()).isEqualTo(1);
    assertThat(step("analyse").attempt()).isEqualTo(1);
    assertThat(workflow.status()).isEqualTo(WorkflowStatus.RUNNING);
    assertThat(workflow.failureReason()).isNull();

    Transition cancelled = machine.cancel(workflow, steps, "cancelled: no", T0.plusSeconds(10));
    assertThat(keys(cancelled.cancelled()))
        .containsExactlyInAnyOrder("design", "implement", "test-plan", "review", "document");
    assertThat(step("analyse").state()).isEqualTo(StepState.SUCCEEDED);
    assertThat(step("design").awaits(2)).isFalse();
    assertThat(workflow.status()).isEqualTo(WorkflowStatus.CANCELLED);
    assertThat(workflow.failureReason()).isEqualTo("cancelled: no");
  }
}
