package dev.atelier.orchestrator;

import static dev.atelier.orchestrator.Api.EXACT;
import static dev.atelier.orchestrator.Api.awaitStatus;
import static dev.atelier.orchestrator.Api.stepField;
import static dev.atelier.orchestrator.Api.workflow;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import dev.atelier.contracts.LlmCallRecorded;
import dev.atelier.contracts.StepRequested;
import dev.atelier.contracts.Topology;
import dev.atelier.contracts.WorkflowStatusChanged;
import dev.atelier.orchestrator.TestWorker.Received;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A workflow's budget: it travels with every step request, a call refused by a budget or a spend
 * that reached it stops the workflow in {@code budget_exceeded} with the spend, and a retry with a
 * raised budget resumes it without running succeeded steps again. Real database and broker; the
 * test plays the workers and the gateway's call records.
 */
@QuarkusTest
class WorkflowBudgetTest {

  private static final String REQUIREMENT = "# Parcel lockers\nCouriers drop parcels in lockers.";

  private static TestWorker worker;

  @Inject DataSource dataSource;

  @BeforeAll
  static void startWorker() throws Exception {
    worker = TestWorker.shared();
  }

  private static UUID submit(String definition, String team, BigDecimal budget) {
    Map<String, Object> body =
        budget == null
            ? Map.of("requirement", REQUIREMENT, "definition", definition, "team", team)
            : Map.of(
                "requirement",
                REQUIREMENT,
                "definition",
                definition,
                "team",
                team,
                "budgetUsd",
                budget,
                "metadata",
                Map.of("ticket", "PL-7", "atelier.team", "someone-else"));
    String id =
        given()
            .contentType("application/json")
            .body(body)
            .post("/api/v1/workflows")
            .then()
            .statusCode(202)
            .extract()
            .path("id");
    return UUID.fromString(id);
  }

  /** An LLM call the gateway recorded for the step, as tracking and the orchestrator get it. */
  private static void spend(Received step, String cost) {
    StepRequested q = step.request();
    LlmCallRecorded call =
        new LlmCallRecorded(
            UUID.randomUUID(),
            LlmCallRecorded.TYPE,
            Instant.now(),
            q.workflowId(),
            q.stepId().toString(),
            q.role(),
            null,
            q.metadata().get("atelier.team"),
            "chat",
            "simulated",
            "gpt-4o-mini",
            "gpt-4o-mini",
            LlmCallRecorded.STATUS_OK,
            null,
            false,
            1000,
            0,
            200,
            0,
            LlmCallRecorded.USAGE_PROVIDER,
            new BigDecimal(cost),
            "test-1",
            Instant.now(),
            42,
            null,
            true,
            null,
            null,
            null);
    worker.publish(Topology.LLM_CALLS_EXCHANGE, Topology.LLM_CALL, call, Map.of());
  }

  private static void awaitSpent(UUID id, String spent) {
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                new BigDecimal(workflow(id).getString("spentUsd")).compareTo(new BigDecimal(spent))
                    == 0);
  }

  private static JsonPath retry(UUID id, String body, int status) {
    var spec = given().config(EXACT);
    if (body != null) {
      spec.contentType("application/json").body(body);
    }
    return spec.post("/api/v1/workflows/{id}/retry", id)
        .then()
        .statusCode(status)
        .extract()
        .jsonPath();
  }

  private long events(UUID id) {
    return TestDb.count(
        dataSource, "select count(*) from workflow_event where workflow_id = ?", id);
  }

  @Test
  void aCallRefusedByTheBudgetStopsTheWorkflowWithTheSpendAndARaisedBudgetResumesIt()
      throws Exception {
    UUID id = submit("software-delivery", "lockers", new BigDecimal("1.00"));
    Received analyse = worker.await(id, "analyse", 1);
    // The budget and the team travel with the step; the workflow's own team wins.
    assertThat(analyse.request().budgetLimitUsd()).isEqualByComparingTo("1.00");
    assertThat(analyse.request().budgetRemainingUsd()).isEqualByComparingTo("1.00");
    assertThat(analyse.request().metadata())
        .containsEntry("atelier.team", "lockers")
        .containsEntry("ticket", "PL-7");
    spend(analyse, "0.40");
    awaitSpent(id, "0.40");
    worker.complete(analyse, "analysis", null);

    Received design = worker.await(id, "design", 1);
    assertThat(design.request().budgetLimitUsd()).isEqualByComparingTo("1.00");
    assertThat(design.request().budgetRemainingUsd()).isEqualByComparingTo("0.60");
    spend(design, "0.30");
    awaitSpent(id, "0.70");
    // The gateway refused design's next call (402); the worker reports it, not retryable.
    worker.fail(design, "budget_exceeded", false);

    JsonPath stopped = awaitStatus(id, "budget_exceeded");
    assertThat(stopped.getString("failureReason"))
        .contains("design", "budget", "spent 0.70 USD of 1.00 USD");
    assertThat(new BigDecimal(stopped.getString("budgetUsd"))).isEqualByComparingTo("1.00");
    assertThat(new BigDecimal(stopped.getString("spentUsd"))).isEqualByComparingTo("0.70");
    assertThat(stopped.getString("completedAt")).isNotNull();
    assertThat(stepField(stopped, "analyse", "state")).isEqualTo("succeeded");
    assertThat(stepField(stopped, "design", "state")).isEqualTo("failed");
    assertThat(stepField(stopped, "design", "error.code")).isEqualTo("budget_exceeded");
    assertThat(stepField(stopped, "implement", "state")).isEqualTo("pending");
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(worker.statusEvents(id))
                    .extracting(WorkflowStatusChanged::status)
                    .containsExactly("running", "budget_exceeded"));
    assertThat(worker.statusEvents(id).get(1).reason()).contains("spent 0.70 USD");

    // The stream ends with the budget event and its spend.
    try (SseClient sse = new SseClient(id, null)) {
      await().atMost(Duration.ofSeconds(10)).until(sse::ended);
      SseClient.Event last = sse.events.get(sse.events.size() - 1);
      assertThat(last.name()).isEqualTo("workflow.budget_exceeded");
      assertThat(last.data())
          .contains("\"spentUsd\":0.70", "\"budgetUsd\":1.00", "\"status\":\"budget_exceeded\"");
    }

    // Listed under its status, with budget and spend; counted.
    JsonPath listed =
        given()
            .config(EXACT)
            .queryParam("status", "budget_exceeded")
            .queryParam("team", "lockers")
            .get("/api/v1/workflows")
            .then()
            .statusCode(200)
            .extract()
            .jsonPath();
    assertThat(listed.getList("items.id")).contains(id.toString());
    assertThat(new BigDecimal(listed.getString("items.find { it.id == '" + id + "' }.spentUsd")))
        .isEqualByComparingTo("0.70");
    assertThat(new BigDecimal(listed.getString("items.find { it.id == '" + id + "' }.budgetUsd")))
        .isEqualByComparingTo("1.00");
    given()
        .get("/q/metrics")
        .then()
        .body(
            containsString(
                "atelier_workflows_budget_exceeded_total{definition=\"software-delivery\""));

    // Nothing resumes it without more money; bad bodies are 400; none of it changes anything.
    long logged = events(id);
    JsonPath notRaised = retry(id, null, 409);
    assertThat(notRaised.getString("type")).endsWith("budget-exceeded");
    assertThat(notRaised.getString("detail")).contains("1.00", "0.70");
    assertThat(retry(id, "{\"budgetUsd\": 1.00}", 409).getString("type"))
        .endsWith("budget-not-raised");
    assertThat(retry(id, "{\"budgetUsd\": 0.5}", 409).getString("type"))
        .endsWith("budget-not-raised");
    for (String bad :
        List.of(
            "not json",
            "[2]",
            "{\"budgetUsd\": \"2\"}",
            "{\"budgetUsd\": -1}",
            "{\"budgetUsd\": 0}",
            "{\"budgetUsd\": 1.1234567}",
            "{\"budgetUsd\": 1e400}",
            "{\"budget\": 2}")) {
      given()
          .contentType("application/json")
          .body(bad)
          .post("/api/v1/workflows/{id}/retry", id)
          .then()
          .statusCode(400)
          .contentType("application/problem+json")
          .body("status", equalTo(400));
    }
    JsonPath unchanged = workflow(id);
    assertThat(unchanged.getString("status")).isEqualTo("budget_exceeded");
    assertThat(new BigDecimal(unchanged.getString("budgetUsd"))).isEqualByComparingTo("1.00");
    assertThat(events(id)).isEqualTo(logged);
    assertThat(worker.find(id, "design", 2)).isNull();

    // A raised budget resumes it from the refused step; what succeeded does not run again.
    JsonPath resumed = retry(id, "{\"budgetUsd\": 2.5}", 200);
    assertThat(resumed.getString("status")).isEqualTo("running");
    assertThat(resumed.getString("failureReason")).isNull();
    assertThat(new BigDecimal(resumed.getString("budgetUsd"))).isEqualByComparingTo("2.5");
    assertThat(stepField(resumed, "analyse", "state")).isEqualTo("succeeded");
    assertThat(stepField(resumed, "design", "state")).isEqualTo("dispatched");
    Received design2 = worker.await(id, "design", 2);
    assertThat(design2.request().budgetLimitUsd()).isEqualByComparingTo("2.5");
    assertThat(design2.request().budgetRemainingUsd()).isEqualByComparingTo("1.80");
    assertThat(design2.request().inputs())
        .extracting(Object::toString)
        .containsExactly("analysis@1");
    worker.complete(design2, "architecture", null);
    worker.complete(worker.await(id, "implement", 1), "code", null);
    worker.complete(worker.await(id, "test-plan", 1), "test-plan", null);
    worker.complete(worker.await(id, "review", 1), "review", "approved");
    worker.complete(worker.await(id, "document", 1), "docs", null);
    awaitStatus(id, "completed");
    assertThat(worker.requests(id).stream().filter(r -> r.stepKey().equals("analyse"))).hasSize(1);
    assertThat(new BigDecimal(workflow(id).getString("budgetUsd"))).isEqualByComparingTo("2.5");
  }

  @Test
  void aSpendThatReachedTheBudgetSendsNoFurtherStepAndTheUnsentOnesRunAfterARaise() {
    UUID id = submit("software-delivery", "lockers", new BigDecimal("0.50"));
    Received analyse = worker.await(id, "analyse", 1);
    spend(analyse, "0.30");
    spend(analyse, "0.20");
    awaitSpent(id, "0.50");
    worker.complete(analyse, "analysis", null);

    JsonPath stopped = awaitStatus(id, "budget_exceeded");
    assertThat(stopped.getString("failureReason"))
        .isEqualTo("the workflow's budget is spent; spent 0.50 USD of 0.50 USD");
    assertThat(stepField(stopped, "analyse", "state")).isEqualTo("succeeded");
    assertThat(stepField(stopped, "design", "state")).isEqualTo("pending");
    assertThat(
            TestDb.count(
                dataSource,
                "select count(*) from outbox where workflow_id = ? and event_type = ?",
                id,
                StepRequested.TYPE))
        .isZero();
    assertThat(worker.find(id, "design", 1)).isNull();

    // The unsent step goes out with the raised budget; the succeeded one keeps its output.
    JsonPath resumed = retry(id, "{\"budgetUsd\": 0.75}", 200);
    assertThat(stepField(resumed, "design", "state")).isEqualTo("dispatched");
    Received design = worker.await(id, "design", 1);
    assertThat(design.request().budgetRemainingUsd()).isEqualByComparingTo("0.25");
    assertThat(design.request().budgetLimitUsd()).isEqualByComparingTo("0.75");
    assertThat(worker.requests(id).stream().filter(r -> r.stepKey().equals("analyse"))).hasSize(1);
  }

  @Test
  void aWorkflowWithoutABudgetStoppedAtTheGatewayIsRetriedAsItIs() {
    UUID id = submit("test-single", "lockers-free", null);
    Received solo = worker.await(id, "solo", 1);
    assertThat(solo.request().budgetLimitUsd()).isNull();
    assertThat(solo.request().budgetRemainingUsd()).isNull();
    assertThat(solo.request().metadata()).containsEntry("atelier.team", "lockers-free");
    // The team's budget at the gateway refused the call; the worker says it may retry: no use.
    worker.fail(solo, "budget_exceeded", true);

    JsonPath stopped = awaitStatus(id, "budget_exceeded");
    assertThat(stopped.getString("failureReason"))
        .contains("solo", "(the workflow has no budget of its own)");
    assertThat(stopped.getString("budgetUsd")).isNull();
    assertThat(stepField(stopped, "solo", "attempt")).isEqualTo("1");

    // No budget of its own to raise; the team's may have been, so a plain retry runs it again.
    assertThat(retry(id, "{\"budgetUsd\": 5}", 409).getString("type"))
        .endsWith("budget-not-raised");
    JsonPath resumed = retry(id, "", 200);
    assertThat(resumed.getString("status")).isEqualTo("running");
    worker.complete(worker.await(id, "solo", 2), "analysis", null);
    awaitStatus(id, "completed");
  }

  /**
   * A workflow with a budget of its own, stopped by its team's budget at the gateway while its own
   * had room: a plain retry resumes it (the team's budget is raised at the gateway, not here),
   * while one its own budget stopped still asks for a raised budget.
   */
  @Test
  void aWorkflowStoppedByItsTeamsBudgetIsRetriedAsItIsButOneStoppedByItsOwnNeedsMore() {
    UUID byTeam = submit("test-single", "lockers-team", new BigDecimal("5.00"));
    worker.refuseByBudget(worker.await(byTeam, "solo", 1), "team");
    JsonPath stopped = awaitStatus(byTeam, "budget_exceeded");
    assertThat(stopped.getString("budgetScope")).isEqualTo("team");
    JsonPath resumed = retry(byTeam, "", 200);
    assertThat(resumed.getString("status")).isEqualTo("running");
    assertThat(resumed.getString("budgetScope")).isNull();
    assertThat(new BigDecimal(resumed.getString("budgetUsd"))).isEqualByComparingTo("5.00");
    worker.complete(worker.await(byTeam, "solo", 2), "analysis", null);
    awaitStatus(byTeam, "completed");

    UUID byOwn = submit("test-single", "lockers-team", new BigDecimal("5.00"));
    worker.refuseByBudget(worker.await(byOwn, "solo", 1), "workflow");
    assertThat(awaitStatus(byOwn, "budget_exceeded").getString("budgetScope"))
        .isEqualTo("workflow");
    assertThat(retry(byOwn, "", 409).getString("type")).endsWith("budget-exceeded");
    assertThat(workflow(byOwn).getString("status")).isEqualTo("budget_exceeded");
    assertThat(worker.find(byOwn, "solo", 2)).isNull();
  }

  @Test
  void aZeroBudgetStopsTheWorkflowBeforeItsFirstStep() {
    UUID id = submit("test-single", "lockers", BigDecimal.ZERO);
    JsonPath stopped = workflow(id);
    assertThat(stopped.getString("status")).isEqualTo("budget_exceeded");
    // Its own budget stopped it, as it was created: stored with it, not only answered.
    assertThat(stopped.getString("budgetScope")).isEqualTo("workflow");
    assertThat(stepField(stopped, "solo", "state")).isEqualTo("pending");
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(worker.statusEvents(id))
                    .extracting(WorkflowStatusChanged::status)
                    .containsExactly("budget_exceeded"));
    assertThat(worker.find(id, "solo", 1)).isNull();
    // Only a failed or budget-stopped workflow is retried; completed ones are not.
    // 18 digits, more than a double holds: stored exactly as sent.
    JsonPath resumed = retry(id, "{\"budgetUsd\": 100000000000.000001}", 200);
    worker.complete(worker.await(id, "solo", 1), "analysis", null);
    awaitStatus(id, "completed");
    assertThat(resumed.getString("status")).isEqualTo("running");
    assertThat(new BigDecimal(workflow(id).getString("budgetUsd")))
        .isEqualByComparingTo("100000000000.000001");
    assertThat(retry(id, null, 409).getString("type")).endsWith("workflow-not-failed");
  }
}
