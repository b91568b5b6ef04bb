package dev.atelier.orchestrator;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;

import io.restassured.config.JsonConfig;
import io.restassured.config.RestAssuredConfig;
import io.restassured.path.json.JsonPath;
import io.restassured.path.json.config.JsonPathConfig;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;

/** The orchestrator's HTTP API as the tests use it; numbers are read as BigDecimal. */
public final class Api {

  public static final RestAssuredConfig EXACT =
      RestAssuredConfig.config()
          .jsonConfig(
              JsonConfig.jsonConfig()
                  .numberReturnType(JsonPathConfig.NumberReturnType.BIG_DECIMAL));

  private Api() {}

  public static UUID submit(String definition, String requirement) {
    String id =
        given()
            .contentType("application/json")
            .body(Map.of("requirement", requirement, "definition", definition))
            .post("/api/v1/workflows")
            .then()
            .statusCode(202)
            .extract()
            .path("id");
    return UUID.fromString(id);
  }

  public static JsonPath workflow(UUID id) {
    return given()
        .config(EXACT)
        .get("/api/v1/workflows/{id}", id)
        .then()
        .statusCode(200)
        .extract()
        .jsonPath(
            JsonPathConfig.jsonPathConfig()
                .numberReturnType(JsonPathConfig.NumberReturnType.BIG_DECIMAL));
  }

  public static JsonPath awaitStatus(UUID id, String status) {
    return await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> workflow(id), w -> status.equals(w.getString("status")));
  }

  public static String stepField(JsonPath workflow, String key, String field) {
    return workflow.getString("steps.find { it.key == '" + key + "' }." + field);
  }
}
