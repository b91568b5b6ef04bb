package dev.atelier.systemtest;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.atelier.contracts.Headers;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A gateway stopped (SIGTERM: a scale-down, a rollout, {@code docker compose stop}) while it serves
 * an LLM call finishes that call: the caller gets its answer, not a cut connection it would retry
 * and pay for again, and the call's record reaches the ledger before the process exits. The
 * simulated provider answers after 3 s, so the SIGTERM lands inside the call.
 */
class GatewayShutdownIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration LLM_LATENCY = Duration.ofSeconds(3);

  private static AtelierSuite suite;

  @BeforeAll
  static void startSuite() throws Exception {
    suite = AtelierSuite.startWithLlmLatency(LLM_LATENCY, Map.of("SHUTDOWN_TIMEOUT", "30s"));
  }

  @AfterAll
  static void stopSuite() {
    if (suite != null) {
      suite.close();
    }
  }

  @Test
  void aGatewayStoppedMidCallAnswersItAndRecordsItBeforeExiting() throws Exception {
    String gateway = suite.url("llm-gateway");
    UUID workflowId = UUID.randomUUID();
    HttpClient http = HttpClient.newHttpClient();
    CompletableFuture<HttpResponse<String>> answer =
        http.sendAsync(
            HttpRequest.newBuilder(URI.create(gateway + "/v1/chat/completions"))
                .timeout(Duration.ofSeconds(60))
                .header("Authorization", "Bearer atelier-local-key")
                .header("Content-Type", "application/json")
                .header(Headers.WORKFLOW_ID, workflowId.toString())
                .header(Headers.STEP_ID, "shutdown")
                .header(Headers.AGENT, "architect")
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        """
                        {"model": "gpt-4o-mini",
                         "messages": [{"role": "user", "content": "Name one prime number."}]}
                        """))
                .build(),
            HttpResponse.BodyHandlers.ofString());

    // The call is in flight (it and this scrape are the gateway's active requests): stop it.
    Awaitility.await("the call in flight at the gateway")
        .atMost(Duration.ofSeconds(2))
        .pollInterval(Duration.ofMillis(50))
        .until(() -> activeRequests(gateway) >= 2);
    assertThat(answer).as("answered before the SIGTERM").isNotDone();
    CompletableFuture<Boolean> exited =
        CompletableFuture.supplyAsync(() -> suite.terminate("llm-gateway", Duration.ofSeconds(40)));

    HttpResponse<String> response = answer.get(40, TimeUnit.SECONDS);
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    JsonNode body = JSON.readTree(response.body());
    assertThat(body.path("choices").path(0).path("message").path("content").asText()).isNotBlank();
    assertThat(exited.get(45, TimeUnit.SECONDS)).as("the gateway exited on SIGTERM").isTrue();

    // Published before the process exited: no gateway runs any more to publish it later.
    JsonNode rows =
        Awaitility.await("the call's ledger row")
            .atMost(Duration.ofSeconds(30))
            .pollInterval(Duration.ofMillis(250))
            .until(
                () ->
                    JSON.readTree(
                            given()
                                .baseUri(suite.url("tracking"))
                                .get("/api/v1/llm-calls?workflowId=" + workflowId)
                                .then()
                                .statusCode(200)
                                .extract()
                                .asString())
                        .path("items"),
                items -> items.size() >= 1);
    assertThat(rows).hasSize(1);
    assertThat(rows.get(0).path("status").asText()).isEqualTo("ok");
    assertThat(rows.get(0).path("stepId").asText()).isEqualTo("shutdown");
    assertThat(rows.get(0).path("outputTokens").asLong())
        .isEqualTo(body.path("usage").path("completion_tokens").asLong());
  }

  /** The gateway's {@code http_server_active_requests}, this scrape included. */
  private static double activeRequests(String gateway) {
    String metrics = given().baseUri(gateway).get("/q/metrics").then().extract().asString();
    return metrics
        .lines()
        .filter(l -> l.startsWith("http_server_active_requests{"))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
        .sum();
  }
}
