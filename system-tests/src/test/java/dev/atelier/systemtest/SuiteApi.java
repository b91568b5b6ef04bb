package dev.atelier.systemtest;

import static io.restassured.RestAssured.given;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.restassured.http.ContentType;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import org.awaitility.Awaitility;

/** Reading the running suite's REST APIs in system tests. */
final class SuiteApi {

  private static final ObjectMapper JSON = new ObjectMapper();

  private SuiteApi() {}

  /** GET {@code base + path}, which must answer 200 with JSON. */
  static JsonNode getJson(String base, String path) {
    String body =
        given()
            .baseUri(base)
            .accept(ContentType.JSON)
            .get(path)
            .then()
            .statusCode(200)
            .extract()
            .asString();
    try {
      return JSON.readTree(body);
    } catch (Exception e) {
      throw new AssertionError("not JSON from " + base + path + ": " + body, e);
    }
  }

  /** The state of step {@code key} of a workflow, from the orchestrator at {@code orchestrator}. */
  static String stepState(String orchestrator, String workflowId, String key) {
    JsonNode workflow = getJson(orchestrator, "/api/v1/workflows/" + workflowId);
    for (JsonNode s : workflow.path("steps")) {
      if (key.equals(s.path("key").asText())) {
        return s.path("state").asText();
      }
    }
    throw new AssertionError("no step " + key + " in " + workflow);
  }

  /** Submits a workflow of the built-in definition to the orchestrator; its id. */
  static String submit(String orchestrator, String title, String requirement) {
    return given()
        .baseUri(orchestrator)
        .contentType(ContentType.JSON)
        .body(Map.of("title", title, "requirement", requirement))
        .post("/api/v1/workflows")
        .then()
        .statusCode(202)
        .extract()
        .path("id");
  }

  /** The workflow once it has ended (completed, failed, cancelled or budget_exceeded). */
  static JsonNode awaitEnded(String orchestrator, String workflowId, Duration atMost) {
    return Awaitility.await("workflow " + workflowId + " finished")
        .atMost(atMost)
        .pollInterval(Duration.ofMillis(500))
        .until(
            () -> getJson(orchestrator, "/api/v1/workflows/" + workflowId),
            w ->
                Set.of("completed", "failed", "cancelled", "budget_exceeded")
                    .contains(w.path("status").asText()));
  }
}
