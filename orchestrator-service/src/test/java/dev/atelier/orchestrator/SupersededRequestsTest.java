package dev.atelier.orchestrator;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.atelier.contracts.StepFailed;
import dev.atelier.contracts.StepRequested;
import dev.atelier.orchestrator.model.StepRun;
import dev.atelier.orchestrator.service.ResultService;
import dev.atelier.orchestrator.service.SubmitWorkflow;
import dev.atelier.orchestrator.service.WorkflowDetails;
import dev.atelier.orchestrator.service.WorkflowService;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A step the state machine cancels takes its unsent request with it: the worker would run it, and
 * pay for its LLM calls, after the workflow stopped.
 */
@QuarkusTest
class SupersededRequestsTest {

  private static TestWorker worker;

  @Inject DataSource dataSource;
  @Inject WorkflowService workflows;
  @Inject ResultService results;

  @BeforeAll
  static void startWorker() throws Exception {
    worker = TestWorker.shared();
  }

  private long requests(UUID workflowId, UUID stepId) {
    return TestDb.count(
        dataSource,
        "select count(*) from outbox where workflow_id = ? and event_type = ? and step_id = ?"
            + " and attempt = 1",
        workflowId,
        StepRequested.TYPE,
        stepId);
  }

  @Test
  void aFailureDropsTheUnsentRequestOfTheSiblingItCancels() {
    given().delete("/api/v1/workflow-definitions/test-siblings");
    given()
        .contentType("application/json")
        .body(
            Map.of(
                "description",
                "two steps that start together",
                "steps",
                List.of(
                    Map.of("id", "left", "role", "business-analyst"),
                    Map.of("id", "right", "role", "business-analyst"))))
        .put("/api/v1/workflow-definitions/test-siblings")
        .then()
        .statusCode(201);

    // Both requests are written, then the left step fails for good before the transaction
    // commits: the relay has not seen either row, as when the broker refused the right one.
    UUID id;
    QuarkusTransaction.begin();
    try {
      WorkflowDetails started =
          workflows.submit(
              new SubmitWorkflow("Two at once", null, "test-siblings", null, null, null), null);
      id = started.workflow().id();
      StepRun left = step(started, "left");
      StepRun right = step(started, "right");
      assertThat(requests(id, left.id())).isEqualTo(1);
      assertThat(requests(id, right.id())).isEqualTo(1);

      results.handle(
          new StepFailed(
              UUID.randomUUID(),
              StepFailed.TYPE,
              Instant.now(),
              id,
              left.id(),
              "left",
              "business-analyst",
              1,
              "invalid_request",
              "refused in test",
              false,
              Instant.now(),
              null));

      assertThat(
              TestDb.count(
                  dataSource,
                  "select count(*) from workflow where id = ? and status = 'failed'",
                  id))
          .isEqualTo(1);
      assertThat(requests(id, right.id())).as("the cancelled sibling's request").isZero();
      assertThat(requests(id, left.id())).as("only the cancelled step's request goes").isEqualTo(1);
      QuarkusTransaction.commit();
    } catch (RuntimeException | Error e) {
      QuarkusTransaction.rollback();
      throw e;
    }

    // What was committed is published; the cancelled step's request never is.
    worker.await(id, "left", 1);
    UUID workflowId = id;
    await()
        .during(Duration.ofSeconds(1))
        .atMost(Duration.ofSeconds(5))
        .until(() -> worker.find(workflowId, "right", 1) == null);
  }

  private static StepRun step(WorkflowDetails details, String key) {
    return details.steps().stream().filter(s -> s.key().equals(key)).findFirst().orElseThrow();
  }
}
