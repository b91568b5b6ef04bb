package dev.atelier.systemtest;

import static io.restassured.RestAssured.given;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.restassured.http.ContentType;

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
}
