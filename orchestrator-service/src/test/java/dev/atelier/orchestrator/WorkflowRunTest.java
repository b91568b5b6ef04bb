package dev.atelier.orchestrator;

import static dev.atelier.orchestrator.Api.awaitStatus;
import static dev.atelier.orchestrator.Api.stepField;
import static dev.atelier.orchestrator.Api.submit;
import static dev.atelier.orchestrator.Api.workflow;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.atelier.contracts.ArtifactRef;
import dev.atelier.contracts.EventCodec;
import dev.atelier.contracts.StepCompleted;
import dev.atelier.contracts.StepRequested;
import dev.atelier.contracts.Topology;
import dev.atelier.contracts.WorkflowStatusChanged;
import dev.atelier.orchestrator.TestWorker.Received;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.UUID;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Runs workflows against the real database and broker with the test playing the workers: it takes
 * step requests from the step queues and answers on the results exchange.
 */
@QuarkusTest
class WorkflowRunTest {

  private static final String REQUIREMENT =
      "# Library loans\nMembers borrow and return books; librarians see overdue loans.";

  private static TestWorker worker;

  @Inject DataSource dataSource;

  @BeforeAll
  static void startWorker() throws Exception {
    worker = TestWorker.shared();
  }

  private static List<String> refs(Received r) {
    return r.request().inputs().stream().map(ArtifactRef::toString).toList();
  }

  private void awaitProcessed(UUID eventId) {
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                TestDb.count(
                        dataSource,
                        "select count(*) from processed_event where event_id = ?",
                        eventId)
                    == 1);
  }

  private void awaitOutboxEmpty() {
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> TestDb.count(dataSource, "select count(*) from outbox") == 0);
  }

  @Test
  void softwareDeliveryRunsBranchesInParallelPassesInputsAndCompletes() {
    UUID id = submit("software-delivery", REQUIREMENT);

    Received analyse = worker.await(id, "analyse", 1);
    StepRequested q = analyse.request();
    assertThat(q.type()).isEqualTo(StepRequested.TYPE);
    assertThat(q.requirement()).isEqualTo(REQUIREMENT);
    assertThat(q.inputs()).isEmpty();
    assertThat(q.agent().role()).isEqualTo("business-analyst");
    assertThat(q.agent().outputArtifact()).isEqualTo("analysis");
    assertThat(q.agent().outputSchema().at("/properties/userStories/minItems").asInt())
        .isEqualTo(1);
    assertThat(q.agent().model()).isEqualTo("gpt-4o-mini");
    assertThat(q.deadline()).isAfter(Instant.now().plus(Duration.ofMinutes(9)));
    assertThat(q.feedback()).isNull();
    worker.complete(analyse, "analysis", null);

    Received design = worker.await(id, "design", 1);
    assertThat(refs(design)).containsExactly("analysis@1");
    worker.complete(design, "architecture", null);

    // Both branches are out before either has completed.
    Received implement = worker.await(id, "implement", 1);
    Received testPlan = worker.await(id, "test-plan", 1);
    assertThat(refs(implement)).containsExactly("analysis@1", "architecture@1");
    assertThat(refs(testPlan)).containsExactly("analysis@1", "architecture@1");
    assertThat(implement.request().agent().role()).isEqualTo("developer");
    assertThat(testPlan.request().agent().role()).isEqualTo("tester");
    JsonPath during = workflow(id);
    assertThat(stepField(during, "implement", "state")).isEqualTo("dispatched");
    assertThat(stepField(during, "test-plan", "state")).isEqualTo("dispatched");

    worker.complete(testPlan, "test-plan", null);
    // The join waits for the other branch.
    await()
        .during(Duration.ofMillis(800))
        .atMost(Duration.ofSeconds(3))
        .until(() -> worker.find(id, "review", 1) == null);
    worker.complete(implement, "code", null);

    Received review = worker.await(id, "review", 1);
    assertThat(refs(review))
        .containsExactly("analysis@1", "architecture@1", "code@1", "test-plan@1");
    worker.complete(review, "review", "approved");
    Received document = worker.await(id, "document", 1);
    assertThat(refs(document))
        .containsExactly("analysis@1", "architecture@1", "code@1", "test-plan@1", "review@1");
    worker.complete(document, "docs", null);

    JsonPath done = awaitStatus(id, "completed");
    assertThat(done.getList("steps.key"))
        .containsExactly("analyse", "design", "implement", "test-plan", "review", "document");
    assertThat(done.getList("steps.state")).containsOnly("succeeded");
    assertThat(done.getList("steps.attempt", Integer.class)).containsOnly(1);
    assertThat(stepField(done, "review", "verdict")).isEqualTo("approved");
    assertThat(done.getList("steps.find { it.key == 'implement' }.outputs", String.class))
        .containsExactly("code@1");
    assertThat(done.getString("completedAt")).isNotNull();
    assertThat(done.getString("contextUrl")).contains(id.toString());
    Instant implementDispatched = Instant.parse(stepField(done, "implement", "dispatchedAt"));
    Instant testPlanDispatched = Instant.parse(stepField(done, "test-plan", "dispatchedAt"));
    Instant firstBranchDone =
        List.of(
                stepField(done, "implement", "finishedAt"),
                stepField(done, "test-plan", "finishedAt"))
            .stream()
            .map(Instant::parse)
            .min(Instant::compareTo)
            .orElseThrow();
    assertThat(implementDispatched).isBefore(firstBranchDone);
    assertThat(testPlanDispatched).isBefore(firstBranchDone);

    // One trace: the submit span's trace id is on every step request.
    String traceId = done.getString("traceId");
    assertThat(traceId).matches("[0-9a-f]{32}");
    for (Received r : List.of(analyse, design, implement, testPlan, review, document)) {
      assertThat(TestWorker.traceIdOf(r)).isEqualTo(traceId);
    }
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(worker.statusEvents(id))
                    .extracting(WorkflowStatusChanged::status)
                    .containsExactly("running", "completed"));
    assertThat(worker.statusEvents(id).get(1).previousStatus()).isEqualTo("running");
    awaitOutboxEmpty();
  }

  @Test
  void changesRequestedLoopsBackToImplementAtMostTwiceThenProceeds() {
    UUID id = submit("software-delivery", REQUIREMENT);
    worker.complete(worker.await(id, "analyse", 1), "analysis", null);
    worker.complete(worker.await(id, "design", 1), "architecture", null);
    worker.complete(worker.await(id, "test-plan", 1), "test-plan", null);
    worker.complete(worker.await(id, "implement", 1), "code", null);
    worker.complete(worker.await(id, "review", 1), "review", "changes_requested");

    Received implement2 = worker.await(id, "implement", 2);
    assertThat(implement2.request().feedback())
        .contains("changes_requested")
        .contains("review@1")
        .contains("review done (attempt 1)");
    assertThat(refs(implement2))
        .containsExactly("analysis@1", "architecture@1", "review@1", "code@1");
    worker.complete(implement2, "code", null);
    Received review2 = worker.await(id, "review", 2);
    assertThat(refs(review2))
        .containsExactly("analysis@1", "architecture@1", "code@2", "test-plan@1", "review@1");
    worker.complete(review2, "review", "changes_requested");

    worker.complete(worker.await(id, "implement", 3), "code", null);
    worker.complete(worker.await(id, "review", 3), "review", "changes_requested");
    // Two loops used up: the third request for changes lets the workflow proceed.
    Received document = worker.await(id, "document", 1);
    assertThat(refs(document)).contains("code@3", "review@3");
    worker.complete(document, "docs", null);

    JsonPath done = awaitStatus(id, "completed");
    assertThat(stepField(done, "implement", "attempt")).isEqualTo("3");
    assertThat(stepField(done, "review", "attempt")).isEqualTo("3");
    assertThat(stepField(done, "review", "loopIterations")).isEqualTo("2");
    assertThat(stepField(done, "review", "verdict")).isEqualTo("changes_requested");
    assertThat(stepField(done, "test-plan", "attempt")).isEqualTo("1");
    assertThat(worker.requests(id))
        .extracting(StepRequested::stepKey)
        .containsOnlyOnce("test-plan");
    assertThat(worker.find(id, "implement", 4)).isNull();
    awaitOutboxEmpty();
  }

  @Test
  void duplicateResultsDoNotAdvanceTwice() {
    UUID id = submit("software-delivery", REQUIREMENT);
    Received analyse = worker.await(id, "analyse", 1);
    StepCompleted done = worker.complete(analyse, "analysis", null);
    worker.publish(done, Topology.RESULT_COMPLETED, analyse.headers());
    Received design = worker.await(id, "design", 1);
    // Same event again after the workflow moved on, and a second event for the same attempt.
    worker.publish(done, Topology.RESULT_COMPLETED, analyse.headers());
    StepCompleted second = worker.complete(analyse, "analysis", null);
    awaitProcessed(second.eventId());
    await()
        .during(Duration.ofMillis(800))
        .atMost(Duration.ofSeconds(3))
        .until(() -> worker.requests(id).size() == 2);

    JsonPath w = workflow(id);
    assertThat(stepField(w, "analyse", "attempt")).isEqualTo("1");
    assertThat(stepField(w, "design", "attempt")).isEqualTo("1");
    assertThat(stepField(w, "design", "state")).isEqualTo("dispatched");
    assertThat(worker.requests(id))
        .extracting(StepRequested::stepKey)
        .containsExactly("analyse", "design");
    finishDelivery(id, design);
  }

  /** Finishes a software-delivery workflow whose design request is out. */
  private void finishDelivery(UUID id, Received design) {
    worker.complete(design, "architecture", null);
    worker.complete(worker.await(id, "implement", 1), "code", null);
    worker.complete(worker.await(id, "test-plan", 1), "test-plan", null);
    worker.complete(worker.await(id, "review", 1), "review", "approved");
    worker.complete(worker.await(id, "document", 1), "docs", null);
    awaitStatus(id, "completed");
  }

  @Test
  void retryableFailureIsRedispatchedAfterBackoffAndTheLateResultIsIgnored() {
    UUID id = submit("test-single", REQUIREMENT);
    Received first = worker.await(id, "solo", 1);
    Instant failedAt = Instant.now();
    worker.fail(first, "provider_unavailable", true);

    JsonPath waiting =
        await()
            .atMost(Duration.ofSeconds(5))
            .until(
                () -> workflow(id), w -> "retry_scheduled".equals(stepField(w, "solo", "state")));
    assertThat(stepField(waiting, "solo", "error.code")).isEqualTo("provider_unavailable");
    assertThat(stepField(waiting, "solo", "nextAttemptAt")).isNotNull();

    Received second = worker.await(id, "solo", 2);
    // The policy waits 1.5 s without jitter before the second attempt.
    assertThat(Duration.between(failedAt, second.at()))
        .isGreaterThanOrEqualTo(Duration.ofMillis(1400));
    assertThat(second.request().stepId()).isEqualTo(first.request().stepId());
    assertThat(second.request().deadline()).isAfter(first.request().deadline());

    // The first attempt's result arrives late: ignored, the second attempt is still awaited.
    StepCompleted late = worker.complete(first, "analysis", null);
    awaitProcessed(late.eventId());
    JsonPath afterLate = workflow(id);
    assertThat(afterLate.getString("status")).isEqualTo("running");
    assertThat(stepField(afterLate, "solo", "state")).isEqualTo("dispatched");
    assertThat(stepField(afterLate, "solo", "attempt")).isEqualTo("2");

    worker.complete(second, "analysis", null);
    JsonPath done = awaitStatus(id, "completed");
    assertThat(done.getList("steps[0].outputs", String.class)).containsExactly("analysis@2");
    assertThat(stepField(done, "solo", "error")).isNull();
    awaitOutboxEmpty();
  }

  @Test
  void nonRetryableFailureFailsTheWorkflowAndCancelsTheOtherBranch() {
    UUID id = submit("software-delivery", REQUIREMENT);
    worker.complete(worker.await(id, "analyse", 1), "analysis", null);
    worker.complete(worker.await(id, "design", 1), "architecture", null);
    Received testPlan = worker.await(id, "test-plan", 1);
    worker.fail(worker.await(id, "implement", 1), "output_invalid", false);

    JsonPath failed = awaitStatus(id, "failed");
    assertThat(failed.getString("failureReason"))
        .isEqualTo(
            "step 'implement' (developer) failed after a non-retryable error: output_invalid:"
                + " output_invalid in test");
    assertThat(stepField(failed, "implement", "state")).isEqualTo("failed");
    assertThat(stepField(failed, "implement", "error.code")).isEqualTo("output_invalid");
    assertThat(stepField(failed, "test-plan", "state")).isEqualTo("cancelled");
    assertThat(stepField(failed, "review", "state")).isEqualTo("pending");
    assertThat(failed.getString("completedAt")).isNotNull();

    // The cancelled branch's result comes in after all: ignored.
    StepCompleted late = worker.complete(testPlan, "test-plan", null);
    awaitProcessed(late.eventId());
    assertThat(stepField(workflow(id), "test-plan", "state")).isEqualTo("cancelled");
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(worker.statusEvents(id))
                    .extracting(WorkflowStatusChanged::status)
                    .containsExactly("running", "failed"));
    assertThat(worker.statusEvents(id).get(1).reason()).contains("output_invalid");
    assertThat(worker.find(id, "review", 1)).isNull();
  }

  @Test
  void aResultWithTextTheDatabaseCannotHoldIsAppliedWithThatCharacterReplaced() {
    // PostgreSQL text cannot hold U+0000. A worker's message may quote a provider's error body;
    // the result must still be applied rather than fail its transaction until dead-lettered.
    UUID failing = submit("test-single", REQUIREMENT);
    worker.fail(
        worker.await(failing, "solo", 1), "bad\0code", "the provider said \0 and stopped", false);

    JsonPath failed = awaitStatus(failing, "failed");
    assertThat(stepField(failed, "solo", "error.code")).isEqualTo("bad\uFFFDcode");
    assertThat(stepField(failed, "solo", "error.message"))
        .isEqualTo("the provider said \uFFFD and stopped");
    assertThat(failed.getString("failureReason")).contains("the provider said \uFFFD and stopped");

    UUID completing = submit("test-single", REQUIREMENT);
    worker.complete(worker.await(completing, "solo", 1), "analysis", "ok\0", "sum\0mary");

    JsonPath completed = awaitStatus(completing, "completed");
    assertThat(stepField(completed, "solo", "verdict")).isEqualTo("ok\uFFFD");
    assertThat(stepField(completed, "solo", "summary")).isEqualTo("sum\uFFFDmary");
  }

  @Test
  void codeListedAsNonRetryableFailsAtOnceEvenWhenTheWorkerWouldRetry() {
    UUID id = submit("test-single", REQUIREMENT);
    worker.fail(worker.await(id, "solo", 1), "invalid_request", true);

    JsonPath failed = awaitStatus(id, "failed");
    assertThat(failed.getString("failureReason"))
        .contains("non-retryable")
        .contains("invalid_request");
    assertThat(stepField(failed, "solo", "attempt")).isEqualTo("1");
  }

  @Test
  void exhaustedRetriesFailTheWorkflowWithTheReason() {
    UUID id = submit("test-single", REQUIREMENT);
    worker.fail(worker.await(id, "solo", 1), "provider_unavailable", true);
    worker.fail(worker.await(id, "solo", 2), "provider_unavailable", true);

    JsonPath failed = awaitStatus(id, "failed");
    assertThat(failed.getString("failureReason"))
        .isEqualTo(
            "step 'solo' (business-analyst) failed after 2 attempts: provider_unavailable:"
                + " provider_unavailable in test");
    assertThat(worker.find(id, "solo", 3)).isNull();
  }

  @Test
  void overdueAttemptsTimeOutAreRetriedAndFinallyFail() {
    UUID id = submit("test-timeout", REQUIREMENT);
    Received first = worker.await(id, "solo", 1);
    // Nobody answers: the scheduler times the attempt out and sends the next one.
    Received second = worker.await(id, "solo", 2);
    assertThat(second.at()).isAfter(first.request().deadline());

    JsonPath failed = awaitStatus(id, "failed");
    assertThat(failed.getString("failureReason"))
        .startsWith(
            "step 'solo' (business-analyst) failed after 2 attempts: timeout: no result by");
    assertThat(stepField(failed, "solo", "error.code")).isEqualTo("timeout");
    assertThat(TestWorker.traceIdOf(second)).isEqualTo(failed.getString("traceId"));
    awaitOutboxEmpty();
  }

  @Test
  void anAttemptWhoseRequestIsStillUnsentDoesNotTimeOut() throws Exception {
    UUID id = submit("test-timeout", REQUIREMENT);
    Received first = worker.await(id, "solo", 1);
    UUID stepId = first.request().stepId();
    // As if the broker were unreachable: the attempt's request waits in the outbox (here sent
    // again, held back for an hour), and its deadline has passed.
    TestDb.update(
        dataSource,
        "update workflow_step set deadline_at = now() + interval '1 hour' where id = ?",
        stepId);
    TestDb.update(
        dataSource,
        "insert into outbox (exchange, routing_key, event_id, event_type, workflow_id, body,"
            + " step_id, attempt, next_attempt_at) values (?, ?, ?, ?, ?, ?, ?, 1,"
            + " now() + interval '1 hour')",
        Topology.STEPS_EXCHANGE,
        Topology.stepRoutingKey("business-analyst"),
        first.request().eventId(),
        StepRequested.TYPE,
        id,
        EventCodec.write(first.request()),
        stepId);
    try {
      Instant passed = Instant.now().minusSeconds(1);
      TestDb.update(
          dataSource,
          "update workflow_step set deadline_at = ? where id = ?",
          passed.atOffset(ZoneOffset.UTC),
          stepId);

      // No worker could have run it: the scheduler moves its deadline (1 s) on, again and again,
      // in the step and in the request waiting to be sent, instead of timing it out.
      await()
          .during(Duration.ofSeconds(3))
          .atMost(Duration.ofSeconds(5))
          .until(() -> worker.find(id, "solo", 2) == null);
      assertThat(stepField(workflow(id), "solo", "state")).isEqualTo("dispatched");
      assertThat(
              TestDb.count(
                  dataSource,
                  "select count(*) from workflow_step where id = ? and deadline_at > ?",
                  stepId,
                  passed.atOffset(ZoneOffset.UTC)))
          .isEqualTo(1);

      // Sent at last, the request carries its new deadline: the worker runs it rather than failing
      // it as overdue on receipt. Unanswered, the attempt then times out as any other.
      TestDb.update(
          dataSource, "update outbox set next_attempt_at = now() where step_id = ?", stepId);
      await()
          .atMost(Duration.ofSeconds(20))
          .until(() -> worker.requests(id).stream().filter(r -> r.attempt() == 1).count() == 2);
      StepRequested resent =
          worker.requests(id).stream().filter(r -> r.attempt() == 1).toList().get(1);
      assertThat(resent.deadline()).isAfter(first.request().deadline()).isAfter(passed);
    } finally {
      // Never leave the held request behind (a failure above would): it holds back the step for
      // an hour and the outbox is not empty for the other tests meanwhile.
      TestDb.update(
          dataSource, "delete from outbox where step_id = ? and next_attempt_at > now()", stepId);
    }
    worker.await(id, "solo", 2);
    awaitStatus(id, "failed");
  }
}
