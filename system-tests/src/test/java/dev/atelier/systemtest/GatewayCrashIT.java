package dev.atelier.systemtest;

import static dev.atelier.systemtest.SuiteApi.awaitEnded;
import static dev.atelier.systemtest.SuiteApi.getJson;
import static dev.atelier.systemtest.SuiteApi.stepState;
import static dev.atelier.systemtest.SuiteApi.submit;
import static io.restassured.RestAssured.given;
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
 * The gateway killed (SIGKILL: an OOM kill, a lost node) while a worker waits for one of its LLM
 * calls: the worker asks again under the same Idempotency-Key. The gateway restarted on the dead
 * one's record journal directory (as a container restarted in its pod is) knows that run ended and
 * lets go of the keys it held, so the repeat is made as soon as the gateway is back, not after the
 * takeover time (2 minutes here, so that waiting for it would show). The step finishes in its first
 * attempt, and the ledger holds the killed call (recorded at the gateway's restart as {@code
 * gateway_interrupted}: the provider had it) and one answered call per step. The simulated provider
 * answers after 1.5 s, so the kill lands inside a call.
 */
class GatewayCrashIT {

  private static final Duration LLM_LATENCY = Duration.ofMillis(1500);
  private static final Duration TAKEOVER = Duration.ofMinutes(2);

  private static AtelierSuite suite;

  @BeforeAll
  static void startSuite() throws Exception {
    suite =
        AtelierSuite.startWithLlmLatency(
            LLM_LATENCY, Map.of("GATEWAY_IDEMPOTENCY_TAKEOVER", TAKEOVER.toSeconds() + "s"));
  }

  @AfterAll
  static void stopSuite() {
    if (suite != null) {
      suite.close();
    }
  }

  @Test
  void aGatewayKilledMidCallCostsTheKilledCallOnlyAndTheStepGoesOnAsSoonAsItIsBack()
      throws Exception {
    String workflowId =
        submit(suite.url("orchestrator"), "gateway crash", "A shared shopping list.");

    Awaitility.await("design dispatched")
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(100))
        .until(
            () -> "dispatched".equals(stepState(suite.url("orchestrator"), workflowId, "design")));
    // Kill it while the design step's call is at the (simulated) provider.
    Awaitility.await("the design step's call at the provider")
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(50))
        .until(() -> callsInFlight() >= 1);
    suite.kill("llm-gateway");
    suite.restart("llm-gateway");
    // The killed call's key was let go at the restart: its repeat is made within seconds (the
    // worker's backoff and the call), long before the dead run's claim could be taken over.
    String design =
        Awaitility.await("the design step ended soon after the restart")
            .atMost(Duration.ofSeconds(30))
            .pollInterval(Duration.ofMillis(200))
            .until(
                () -> stepState(suite.url("orchestrator"), workflowId, "design"),
                state -> !state.equals("dispatched") && !state.equals("running"));
    assertThat(design).as("the design step%s", suite.logs()).isEqualTo("succeeded");

    JsonNode workflow = awaitEnded(suite.url("orchestrator"), workflowId, Duration.ofSeconds(240));
    assertThat(workflow.path("status").asText())
        .as(
            "workflow ended %s (%s)%s",
            workflow.path("status"), workflow.path("failureReason"), suite.logs())
        .isEqualTo("completed");
    // The worker waited the dead replica's claim out within the attempt: no step failed.
    List<JsonNode> steps =
        StreamSupport.stream(workflow.path("steps").spliterator(), false).toList();
    assertThat(steps)
        .as("steps %s%s", workflow.path("steps"), suite.logs())
        .allSatisfy(s -> assertThat(s.path("attempt").asInt()).isEqualTo(1));

    // One answered call per step, and the killed one, which the provider had and bills.
    int roles = AtelierSuite.ROLES.size();
    Awaitility.await("the ledger's calls")
        .atMost(Duration.ofSeconds(30))
        .until(() -> calls(workflowId).size(), n -> n >= roles + 1);
    Awaitility.await("no further call")
        .during(Duration.ofSeconds(3))
        .atMost(Duration.ofSeconds(5))
        .until(() -> calls(workflowId).size(), n -> n == roles + 1);
    List<JsonNode> calls = calls(workflowId);
    assertThat(calls.stream().filter(c -> c.path("status").asText().equals("ok")).count())
        .as("answered calls in %s", calls)
        .isEqualTo(roles);
    assertThat(
            calls.stream()
                .filter(c -> c.path("errorCode").asText().equals("gateway_interrupted"))
                .count())
        .as("interrupted calls in %s", calls)
        .isEqualTo(1);
  }

  /** The gateway's calls at a provider now ({@code atelier_llm_calls_in_flight}). */
  private static double callsInFlight() {
    String metrics =
        given().baseUri(suite.url("llm-gateway")).get("/q/metrics").then().extract().asString();
    return metrics
        .lines()
        .filter(l -> l.startsWith("atelier_llm_calls_in_flight"))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
        .sum();
  }

  /** The ledger's calls of the workflow. */
  private static List<JsonNode> calls(String workflowId) {
    JsonNode page =
        getJson(suite.url("tracking"), "/api/v1/llm-calls?limit=100&workflowId=" + workflowId);
    return StreamSupport.stream(page.path("items").spliterator(), false).toList();
  }
}
