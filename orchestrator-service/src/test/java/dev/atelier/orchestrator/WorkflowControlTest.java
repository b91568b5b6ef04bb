package dev.atelier.orchestrator;

import static dev.atelier.orchestrator.Api.awaitStatus;
import static dev.atelier.orchestrator.Api.stepField;
import static dev.atelier.orchestrator.Api.submit;
import static dev.atelier.orchestrator.Api.workflow;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import dev.atelier.contracts.StepCompleted;
import dev.atelier.contracts.StepRequested;
import dev.atelier.contracts.WorkflowStatusChanged;
import dev.atelier.orchestrator.TestWorker.Received;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.LongStream;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Cancellation, approval gates, retry of failed workflows and the progress stream, against the real
 * database and broker, the test playing the workers.
 */
@QuarkusTest
class WorkflowControlTest {

  private static final String REQUIREMENT = "# Bike rental\nRiders rent bikes by the hour.";

  private static TestWorker worker;

  @Inject DataSource dataSource;

  @BeforeAll
  static void startWorker() throws Exception {
    worker = TestWorker.shared();
  }

  private static JsonPath post(String path, Object body, int status, Object... params) {
    var spec = given().contentType("application/json");
    if (body != null) {
      spec.body(body);
    }
    return spec.post(path, params).then().statusCode(status).extract().jsonPath();
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

  private long events(UUID id) {
    return TestDb.count(
        dataSource, "select count(*) from workflow_event where workflow_id = ?", id);
  }

  @Test
  void failedWorkflowIsRetriedFromTheFailedStepThenCancelledAndLateResultsAreIgnored() {
    UUID id = submit("software-delivery", REQUIREMENT);
    worker.complete(worker.await(id, "analyse", 1), "analysis", null);
    worker.fail(worker.await(id, "design", 1), "schema_violation", false);
    JsonPath failed = awaitStatus(id, "failed");
    assertThat(failed.getString("failureReason")).contains("design", "schema_violation");

    // Only a failed workflow is retried; the first retry of it reruns the failed step only.
    JsonPath retried = post("/api/v1/workflows/{id}/retry", null, 200, id);
    assertThat(retried.getString("status")).isEqualTo("running");
    assertThat(retried.getString("failureReason")).isNull();
    assertThat(stepField(retried, "analyse", "state")).isEqualTo("succeeded");
    assertThat(stepField(retried, "design", "state")).isEqualTo("dispatched");
    assertThat(stepField(retried, "design", "attempt")).isEqualTo("2");
    given()
        .post("/api/v1/workflows/{id}/retry", id)
        .then()
        .statusCode(409)
        .contentType("application/problem+json")
        .body("detail", containsString("running"));
    Received design2 = worker.await(id, "design", 2);
    assertThat(design2.request().inputs())
        .extracting(Object::toString)
        .containsExactly("analysis@1");
    assertThat(TestWorker.traceIdOf(design2)).isEqualTo(failed.getString("traceId"));
    worker.complete(design2, "architecture", null);
    Received implement = worker.await(id, "implement", 1);
    worker.await(id, "test-plan", 1);
    assertThat(worker.requests(id).stream().filter(r -> r.stepKey().equals("analyse"))).hasSize(1);

    // A step request still unsent (as if the broker had refused it) must never go out.
    TestDb.update(
        dataSource,
        "insert into outbox (exchange, routing_key, event_id, event_type, workflow_id, payload,"
            + " next_attempt_at) values ('atelier.steps', 'step.developer', ?, ?, ?, '{}'::jsonb,"
            + " now() + interval '1 hour')",
        UUID.randomUUID(),
        StepRequested.TYPE,
        id);

    // Cancel with both branches out: they are cancelled, dispatching stops, late results are
    // ignored.
    JsonPath cancelled =
        post("/api/v1/workflows/{id}/cancel", Map.of("comment", "requirement withdrawn"), 200, id);
    assertThat(cancelled.getString("status")).isEqualTo("cancelled");
    assertThat(cancelled.getString("failureReason")).isEqualTo("cancelled: requirement withdrawn");
    for (String key : List.of("implement", "test-plan", "review", "document")) {
      assertThat(stepField(cancelled, key, "state")).as(key).isEqualTo("cancelled");
    }
    assertThat(
            TestDb.count(
                dataSource,
                "select count(*) from outbox where workflow_id = ? and event_type = ?",
                id,
                StepRequested.TYPE))
        .isZero();
    StepCompleted late = worker.complete(implement, "code", null);
    awaitProcessed(late.eventId());
    JsonPath after = workflow(id);
    assertThat(after.getString("status")).isEqualTo("cancelled");
    assertThat(stepField(after, "implement", "state")).isEqualTo("cancelled");
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                worker.statusEvents(id).stream()
                    .map(WorkflowStatusChanged::status)
                    .toList()
                    .contains("cancelled"));
    assertThat(worker.statusEvents(id))
        .extracting(WorkflowStatusChanged::status)
        .containsExactly("running", "failed", "running", "cancelled");
    assertThat(worker.find(id, "review", 1)).isNull();

    // Finished: cancel and retry refuse, unknown workflows are 404.
    given()
        .contentType("application/json")
        .post("/api/v1/workflows/{id}/cancel", id)
        .then()
        .statusCode(409)
        .contentType("application/problem+json")
        .body("detail", containsString("cancelled"));
    given().post("/api/v1/workflows/{id}/retry", id).then().statusCode(409);
    given()
        .contentType("application/json")
        .post("/api/v1/workflows/{id}/cancel", UUID.randomUUID())
        .then()
        .statusCode(404)
        .contentType("application/problem+json");
  }

  @Test
  void approvalGateWaitsThenRejectionSendsWorkBackAndApprovalDispatchesInTheStoredTrace()
      throws Exception {
    UUID id = submit("test-approval", REQUIREMENT);
    Received draft1 = worker.await(id, "draft", 1);
    worker.complete(draft1, "analysis", null);
    JsonPath waiting = awaitStatus(id, "waiting_approval");
    assertThat(stepField(waiting, "design", "state")).isEqualTo("waiting_approval");
    assertThat(worker.find(id, "design", 1)).isNull();
    String traceId = waiting.getString("traceId");

    // Follow the progress from the start; drop the connection after a few events.
    long seenBeforeDrop;
    try (SseClient first = new SseClient(id, null)) {
      assertThat(first.status).isEqualTo(200);
      assertThat(first.contentType).startsWith("text/event-stream");
      await().atMost(Duration.ofSeconds(10)).until(() -> first.events.size() >= 4);
      assertThat(first.events.get(0).name()).isEqualTo("workflow.running");
      assertThat(first.events.get(1).name()).isEqualTo("step.dispatched");
      assertThat(first.events.get(1).data()).contains("\"stepKey\":\"draft\"", "\"usage\"");
      assertThat(first.events.get(1).data()).doesNotContain("\"final\"");
      seenBeforeDrop = first.events.get(first.events.size() - 1).id();
    }

    // Bad decisions change nothing.
    given()
        .contentType("application/json")
        .post("/api/v1/workflows/{id}/steps/{s}/approve", id, "draft")
        .then()
        .statusCode(409)
        .contentType("application/problem+json");
    given()
        .contentType("application/json")
        .post("/api/v1/workflows/{id}/steps/{s}/approve", id, "nope")
        .then()
        .statusCode(404)
        .contentType("application/problem+json");
    given()
        .contentType("application/json")
        .body(Map.of("comment", "x".repeat(9000)))
        .post("/api/v1/workflows/{id}/steps/{s}/reject", id, "design")
        .then()
        .statusCode(400)
        .contentType("application/problem+json");
    assertThat(stepField(workflow(id), "design", "state")).isEqualTo("waiting_approval");

    // Reject: the draft runs again with the comment as feedback, then the gate waits again.
    JsonPath rejected =
        post(
            "/api/v1/workflows/{id}/steps/{s}/reject",
            Map.of("comment", "Cover group rentals."),
            200,
            id,
            "design");
    assertThat(rejected.getString("status")).isEqualTo("running");
    Received draft2 = worker.await(id, "draft", 2);
    assertThat(draft2.request().feedback()).contains("rejected", "Cover group rentals.");
    worker.complete(draft2, "analysis", null);
    JsonPath waitingAgain = awaitStatus(id, "waiting_approval");
    String designId = waitingAgain.getString("steps.find { it.key == 'design' }.id");

    // Approve by step id: dispatched with the comment, in the workflow's own trace.
    JsonPath approved =
        post(
            "/api/v1/workflows/{id}/steps/{s}/approve",
            Map.of("comment", "Keep it small."),
            200,
            id,
            designId);
    assertThat(approved.getString("status")).isEqualTo("running");
    Received design = worker.await(id, "design", 1);
    assertThat(design.request().feedback()).contains("Keep it small.");
    assertThat(design.request().inputs())
        .extracting(Object::toString)
        .containsExactly("analysis@2");
    assertThat(TestWorker.traceIdOf(design)).isEqualTo(traceId);
    worker.complete(design, "architecture", null);
    awaitStatus(id, "completed");
    assertThat(worker.statusEvents(id))
        .extracting(WorkflowStatusChanged::status)
        .containsExactly(
            "running", "waiting_approval", "running", "waiting_approval", "running", "completed");

    // Reconnect after the last event seen: everything after it, in order, up to the end.
    try (SseClient resumed = new SseClient(id, seenBeforeDrop)) {
      await().atMost(Duration.ofSeconds(10)).until(resumed::ended);
      long total = events(id);
      assertThat(resumed.events)
          .extracting(SseClient.Event::id)
          .containsExactlyElementsOf(
              LongStream.rangeClosed(seenBeforeDrop + 1, total).boxed().toList());
      assertThat(resumed.events.get(resumed.events.size() - 1).name())
          .isEqualTo("workflow.completed");
      assertThat(resumed.events)
          .extracting(SseClient.Event::name)
          .contains("step.waiting_approval", "step.succeeded", "step.dispatched");
    }
    given()
        .header("Last-Event-ID", "abc")
        .get("/api/v1/workflows/{id}/events", id)
        .then()
        .statusCode(400)
        .contentType("application/problem+json");
  }

  @Test
  void liveEventsArriveWhileTheWorkflowRuns() throws Exception {
    UUID id = submit("test-single", REQUIREMENT);
    try (SseClient live = new SseClient(id, null)) {
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> live.events.stream().anyMatch(e -> "step.dispatched".equals(e.name())));
      // While it runs, an id past its log would leave the stream silent until the log grew past
      // it: refused.
      given()
          .header("Last-Event-ID", "3")
          .get("/api/v1/workflows/{id}/events", id)
          .then()
          .statusCode(400)
          .contentType("application/problem+json")
          .body("type", org.hamcrest.Matchers.endsWith("/invalid-last-event-id"))
          .body("detail", containsString("past this workflow's last event, 2"));
      worker.complete(worker.await(id, "solo", 1), "analysis", null);
      await().atMost(Duration.ofSeconds(10)).until(live::ended);
      assertThat(live.events)
          .extracting(SseClient.Event::name)
          .containsExactly(
              "workflow.running", "step.dispatched", "step.succeeded", "workflow.completed");
      assertThat(live.events).extracting(SseClient.Event::id).containsExactly(1L, 2L, 3L, 4L);
    }
    // An EventSource reconnects with the last id after the stream ends: at (or past) the final
    // event of a finished workflow, the stream ends at once instead of polling for ever.
    for (long seen : List.of(4L, 100L)) {
      try (SseClient again = new SseClient(id, seen)) {
        assertThat(again.status).isEqualTo(200);
        await().atMost(Duration.ofSeconds(5)).until(again::ended);
        assertThat(again.events).isEmpty();
      }
    }
  }

  @Test
  void rejectionWithoutOnRejectFailsTheWorkflowWithTheComment() {
    UUID id = submit("test-gate", REQUIREMENT);
    JsonPath waiting = awaitStatus(id, "waiting_approval");
    assertThat(stepField(waiting, "solo", "state")).isEqualTo("waiting_approval");
    given()
        .contentType("application/json")
        .body(Map.of("comment", "Out of scope."))
        .post("/api/v1/workflows/{id}/steps/{s}/reject", id, "solo")
        .then()
        .statusCode(200)
        .body("status", equalTo("failed"))
        .body("failureReason", containsString("Out of scope."));
    assertThat(worker.requests(id)).isEmpty();
    assertThat(stepField(workflow(id), "solo", "error.code")).isEqualTo("rejected");
  }

  @Test
  void definitionsWithBadOnRejectAreRefused() {
    String notGated =
        """
        {"name": "bad-reject", "steps": [
          {"id": "a", "role": "business-analyst"},
          {"id": "b", "role": "architect", "needs": ["a"], "onReject": "a"}]}
        """;
    String notAncestor =
        """
        {"name": "bad-reject", "steps": [
          {"id": "a", "role": "business-analyst"},
          {"id": "b", "role": "architect", "needs": ["a"]},
          {"id": "c", "role": "architect", "needs": ["a"], "approval": true, "onReject": "b"}]}
        """;
    Map<String, String> faults =
        Map.of(
            notGated,
            "step 'b': onReject needs approval: true",
            notAncestor,
            "step 'c': onReject 'b' must be a step it needs");
    faults.forEach(
        (body, fault) ->
            given()
                .contentType("application/json")
                .body(body)
                .post("/api/v1/workflow-definitions")
                .then()
                .statusCode(400)
                .contentType("application/problem+json")
                .body("detail", containsString(fault)));
    given().get("/api/v1/workflow-definitions/bad-reject").then().statusCode(404);
  }
}
