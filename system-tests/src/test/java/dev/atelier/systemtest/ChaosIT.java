package dev.atelier.systemtest;

import static dev.atelier.systemtest.SuiteApi.getJson;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.restassured.http.ContentType;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Fifty workflows through two orchestrator instances while the first orchestrator is killed
 * (SIGKILL), then a worker, then RabbitMQ is restarted. Every workflow completes, no step's side
 * effect happens twice (each artifact has exactly one version) and nothing is left behind in the
 * queues' dead letters.
 */
class ChaosIT {

  private static final int WORKFLOWS = 50;

  private static AtelierSuite suite;

  @BeforeAll
  static void startSuite() throws Exception {
    // A little LLM latency keeps work in flight while processes die.
    suite = AtelierSuite.startWithLlmLatency(Duration.ofMillis(200), Map.of());
    suite.startReplica("orchestrator");
  }

  @AfterAll
  static void stopSuite() {
    if (suite != null) {
      suite.close();
    }
  }

  @Test
  void fiftyWorkflowsSurviveKilledProcessesAndABrokerRestart() throws Exception {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < WORKFLOWS; i++) {
      // Alternate between the two orchestrators: both accept work, both consume results.
      String orchestrator = i % 2 == 0 ? "orchestrator" : "orchestrator-2";
      ids.add(
          given()
              .baseUri(suite.url(orchestrator))
              .contentType(ContentType.JSON)
              .body(
                  Map.of(
                      "title",
                      "chaos " + i,
                      "requirement",
                      "Requirement number " + i + ": a small CRM."))
              .post("/api/v1/workflows")
              .then()
              .statusCode(202)
              .extract()
              .<String>path("id"));
    }

    awaitSucceededSteps(ids, 30);
    suite.kill("orchestrator");
    awaitSucceededSteps(ids, 80);
    suite.restart("orchestrator");
    suite.kill("agent-worker");
    suite.restart("agent-worker");
    awaitSucceededSteps(ids, 150);
    restartRabbitMq();

    Awaitility.await("all " + WORKFLOWS + " workflows completed")
        .atMost(Duration.ofMinutes(5))
        .pollInterval(Duration.ofSeconds(1))
        .until(
            () ->
                count(ids, "completed") == WORKFLOWS
                    || count(ids, "failed") + count(ids, "budget_exceeded") > 0);
    for (String id : ids) {
      JsonNode w = getJson(suite.url("orchestrator-2"), "/api/v1/workflows/" + id);
      assertThat(w.path("status").asText())
          .as("workflow %s: %s%s", id, w.path("failureReason"), suite.logs())
          .isEqualTo("completed");
      JsonNode artifacts = getJson(suite.url("context"), "/api/v1/workflows/" + id + "/artifacts");
      assertThat(artifacts.size()).as("artifacts of %s", id).isEqualTo(12);
      for (JsonNode a : artifacts) {
        assertThat(a.path("version").asInt())
            .as("%s of %s written once", a.path("name"), id)
            .isEqualTo(1);
      }
    }
  }

  private static void awaitSucceededSteps(List<String> ids, int steps) {
    Awaitility.await(steps + " steps succeeded")
        .atMost(Duration.ofMinutes(3))
        .pollInterval(Duration.ofMillis(300))
        .until(() -> succeededSteps(ids) >= steps);
  }

  private static int succeededSteps(List<String> ids) {
    String live = suite.services.containsKey("orchestrator-2") ? "orchestrator-2" : "orchestrator";
    int n = 0;
    for (String id : ids) {
      for (JsonNode s : getJson(suite.url(live), "/api/v1/workflows/" + id).path("steps")) {
        n += "succeeded".equals(s.path("state").asText()) ? 1 : 0;
      }
    }
    return n;
  }

  private static long count(List<String> ids, String status) {
    return ids.stream()
        .filter(
            id ->
                status.equals(
                    getJson(suite.url("orchestrator-2"), "/api/v1/workflows/" + id)
                        .path("status")
                        .asText()))
        .count();
  }

  /**
   * Stops and starts the broker application (queues and messages are durable); services must
   * reconnect.
   */
  private static void restartRabbitMq() throws Exception {
    run("rabbitmqctl", "stop_app");
    run("rabbitmqctl", "start_app");
    run("rabbitmqctl", "await_startup");
  }

  private static void run(String... command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor(60, TimeUnit.SECONDS))
        .as("%s finished", String.join(" ", command))
        .isTrue();
    assertThat(p.exitValue()).as("%s: %s", String.join(" ", command), out).isZero();
  }
}
