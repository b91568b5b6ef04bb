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
          3, Duration.ofSeconds(2), 2.0, Duration.ofSeconds(5), 0.0, List.of("budget_exceeded"));

  private final WorkflowStateMachine machine = new WorkflowStateMachine(() -> 0.5);

  private static StepDefinition step(String id, String role, List<String> needs, LoopPolicy loop) {
    return new StepDefinition(id, role, needs, false, loop, RETRY, Duration.ofMinutes(10), null);
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
        machine.failed(workflow, steps, DELIVERY, analyse, "timeout", "slow", true, null, T0);
    assertThat(t.retryScheduled()).containsExactly(analyse);
    assertThat(analyse.state()).isEqualTo(StepState.RETRY_SCHEDULED);
    assertThat(analyse.nextAttemptAt()).isEqualTo(T0.plusSeconds(2));

    machine.retryDue(workflow, steps, DELIVERY, analyse, T0.plusSeconds(2));
    assertThat(analyse.attempt()).isEqualTo(2);
    machine.failed(workflow, steps, DELIVERY, analyse, "timeout", "slow", true, null, T0);
    assertThat(analyse.nextAttemptAt()).isEqualTo(T0.plusSeconds(4));

    machine.retryDue(workflow, steps, DELIVERY, analyse, T0.plusSeconds(4));
    machine.failed(workflow, steps, DELIVERY, analyse, "timeout", "slow", true, null, T0);
    assertThat(analyse.state()).isEqualTo(StepState.FAILED);
    assertThat(workflow.status()).isEqualTo(WorkflowStatus.FAILED);
    assertThat(workflow.failureReason())
        .isEqualTo("step 'analyse' (business-analyst) failed after 3 attempts: timeout: slow");
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
            "budget_exceeded",
            "no money",
            true,
            null,
            T0);

    assertThat(keys(t.failed())).containsExactly("implement");
    assertThat(keys(t.cancelled())).containsExactly("test-plan");
    assertThat(step("review").state()).isEqualTo(StepState.PENDING);
    assertThat(workflow.failureReason()).contains("non-retryable").contains("budget_exceeded");
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
}
