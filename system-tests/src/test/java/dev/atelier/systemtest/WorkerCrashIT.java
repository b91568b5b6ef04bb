package dev.atelier.systemtest;

import static dev.atelier.systemtest.SuiteApi.awaitEnded;
import static dev.atelier.systemtest.SuiteApi.getJson;
import static dev.atelier.systemtest.SuiteApi.stepState;
import static dev.atelier.systemtest.SuiteApi.submit;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.StreamSupport;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A worker killed (SIGKILL) in the middle of a step loses nothing and duplicates nothing: its
 * unacknowledged message goes back to the queue, the restarted worker runs the step, and every
 * artifact exists in exactly one version; the LLM call the killed worker was waiting for is paid
 * once (the restarted run gets its answer from the gateway by its Idempotency-Key). The simulated
 * provider answers after 1.5 s, so the kill lands inside an LLM call.
 */
class WorkerCrashIT {

  private static final Duration LLM_LATENCY = Duration.ofMillis(1500);

  private static AtelierSuite suite;

  @BeforeAll
  static void startSuite() throws Exception {
    suite = AtelierSuite.startWithLlmLatency(LLM_LATENCY, Map.of());
  }

  @AfterAll
  static void stopSuite() {
    if (suite != null) {
      suite.close();
    }
  }

  @Test
  void aWorkerKilledMidStepLosesNothingAndRunsNoSideEffectTwice() throws Exception {
    String workflowId =
        submit(
            suite.url("orchestrator"), "crash test", "A to-do list with due dates and reminders.");

    // The architect's step is out; give the worker a moment to be inside its 1.5 s LLM call, then
    // kill it.
    Awaitility.await("design dispatched")
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(100))
        .until(
            () -> "dispatched".equals(stepState(suite.url("orchestrator"), workflowId, "design")));
    Awaitility.await()
        .pollDelay(Duration.ofMillis(500))
        .atMost(Duration.ofSeconds(1))
        .until(() -> true);
    suite.kill("agent-worker");
    assertThat(stepState(suite.url("orchestrator"), workflowId, "design")).isEqualTo("dispatched");

    suite.restart("agent-worker");

    JsonNode workflow = awaitEnded(suite.url("orchestrator"), workflowId, Duration.ofSeconds(180));
    assertThat(workflow.path("status").asText())
        .as(
            "workflow ended %s (%s)%s",
            workflow.path("status"), workflow.path("failureReason"), suite.logs())
        .isEqualTo("completed");

    // The redelivered step ran as the same attempt (a redelivery, not a retry) ...
    List<JsonNode> steps =
        StreamSupport.stream(workflow.path("steps").spliterator(), false).toList();
    assertThat(steps).allSatisfy(s -> assertThat(s.path("attempt").asInt()).isEqualTo(1));
    // ... and no step wrote its artifacts twice.
    JsonNode artifacts =
        getJson(suite.url("context"), "/api/v1/workflows/" + workflowId + "/artifacts");
    assertThat(artifacts.size()).isEqualTo(12);
    for (JsonNode a : artifacts) {
      String name = a.path("name").asText();
      JsonNode versions =
          getJson(
              suite.url("context"),
              "/api/v1/workflows/" + workflowId + "/artifacts/" + name + "/versions");
      assertThat(versions.size()).as("versions of %s", name).isEqualTo(1);
    }
    // The call the killed worker was waiting for still happened and is metered, once: the
    // redelivered run sent it again under the same Idempotency-Key and got its answer from the
    // gateway without a second paid call. One call per step (one more before the keys).
    long calls =
        Awaitility.await("usage totals")
            .atMost(Duration.ofSeconds(30))
            .until(() -> usageCalls(workflowId), n -> n >= AtelierSuite.ROLES.size());
    Awaitility.await("no second call")
        .during(Duration.ofSeconds(3))
        .atMost(Duration.ofSeconds(5))
        .until(() -> usageCalls(workflowId), n -> n == AtelierSuite.ROLES.size());
    assertThat(calls).isEqualTo(AtelierSuite.ROLES.size());
  }

  /** LLM calls in the workflow's usage totals (the orchestrator's). */
  private static long usageCalls(Object workflowId) {
    return getJson(suite.url("orchestrator"), "/api/v1/workflows/" + workflowId)
        .path("usage")
        .path("calls")
        .asLong();
  }
}
