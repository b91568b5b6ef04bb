package dev.atelier.context.rest;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import io.restassured.http.ContentType;
import io.restassured.response.Response;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import java.util.UUID;

/** Calls and checks shared by the artifact tests. */
final class Artifacts {

  private Artifacts() {}

  static String base(UUID workflowId) {
    return "/api/v1/workflows/" + workflowId + "/artifacts";
  }

  static Response post(UUID workflowId, String key, Object body) {
    return postTo(base(workflowId), key, body);
  }

  static Response postTo(String path, String key, Object body) {
    var request = given().contentType(ContentType.JSON).body(body);
    if (key != null) {
      request.header("Idempotency-Key", key);
    }
    return request.when().post(path).andReturn();
  }

  static Map<String, Object> markdown(String name, String text) {
    return Map.of("name", name, "kind", "markdown", "content", text);
  }

  static Response get(String path) {
    return given().when().get(path).andReturn();
  }

  /** Asserts an RFC 9457 answer with the given status and problem type slug. */
  static void assertProblem(Response response, int status, String slug) {
    assertThat(response.statusCode()).as(response.asString()).isEqualTo(status);
    assertThat(response.contentType()).startsWith("application/problem+json");
    assertThat(response.jsonPath().getInt("status")).isEqualTo(status);
    assertThat(response.jsonPath().getString("type"))
        .isEqualTo("https://atelier.dev/problems/" + slug);
    assertThat(response.jsonPath().getString("detail")).isNotBlank();
    assertThat(response.asString()).doesNotContain("Exception").doesNotContain("dev.atelier");
  }

  static String sha256(String text) throws Exception {
    return HexFormat.of()
        .formatHex(
            MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
  }
}
