package dev.atelier.gateway;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;

import io.restassured.http.ContentType;
import java.time.Duration;

/** Adds a provider through the admin API, as the tests that need one of their own do. */
final class ManagedProviderAdmin {

  static final String ADMIN = "Bearer atelier-local-admin-key";

  private ManagedProviderAdmin() {}

  /** Adds {@code name} at {@code baseUrl} and waits until its validation says it is up. */
  static void addAndAwaitUp(String name, String baseUrl, String apiKey) {
    given()
        .header("Authorization", ADMIN)
        .contentType(ContentType.JSON)
        .body(
            "{\"name\":\""
                + name
                + "\",\"baseUrl\":\""
                + baseUrl
                + "\",\"apiKey\":\""
                + apiKey
                + "\"}")
        .post("/admin/providers")
        .then()
        .statusCode(201);
    await("provider " + name + " validated")
        .atMost(Duration.ofSeconds(15))
        .until(
            () ->
                given()
                    .header("Authorization", ADMIN)
                    .get("/admin/providers/" + name)
                    .jsonPath()
                    .getString("status"),
            "ok"::equals);
  }
}
