package dev.atelier.tracking;

import static dev.atelier.tracking.CallBuilder.call;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import com.fasterxml.jackson.databind.JsonNode;
import dev.atelier.contracts.LlmCallRecorded;
import dev.atelier.kit.amqp.EventPublisher;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The call list: filters, keyset pagination, single calls, and bad parameters. */
@QuarkusTest
class QueryTest {

  private static final String PROBLEM = "application/problem+json";

  @Inject EventPublisher publisher;
  @Inject DataSource dataSource;
  @Inject MeterRegistry registry;

  private Ledger ledger;

  @BeforeEach
  void setUp() {
    ledger = new Ledger(publisher, dataSource, registry);
  }

  @Test
  void pagesReturnEveryCallExactlyOnceNewestFirst() {
    UUID workflowId = UUID.randomUUID();
    Instant base = Instant.now().minus(1, ChronoUnit.HOURS).truncatedTo(ChronoUnit.MICROS);
    List<LlmCallRecorded> calls = new ArrayList<>();
    for (int i = 0; i < 23; i++) {
      // Groups of three share a timestamp, so the id must break ties for the cursor to be exact.
      calls.add(call().workflow(workflowId).at(base.plusMillis(i / 3)).build());
    }
    ledger.publish(calls);
    ledger.awaitRows(calls.stream().map(LlmCallRecorded::eventId).toList());

    List<String> seen = new ArrayList<>();
    String cursor = null;
    int pages = 0;
    do {
      var request = given().queryParam("workflowId", workflowId).queryParam("limit", 5);
      if (cursor != null) {
        request.queryParam("cursor", cursor);
      }
      JsonNode page =
          Ledger.parse(
              request.get("/api/v1/llm-calls").then().statusCode(200).extract().asString());
      page.get("items").forEach(item -> seen.add(item.get("id").asText()));
      cursor = page.get("nextCursor").isNull() ? null : page.get("nextCursor").asText();
      pages++;
    } while (cursor != null && pages < 10);

    List<String> expected =
        calls.stream()
            .sorted(
                Comparator.comparing(LlmCallRecorded::occurredAt)
                    // PostgreSQL orders uuids as unsigned bytes, which is the order of their
                    // lower-case text (UUID.compareTo compares signed longs).
                    .thenComparing(c -> c.eventId().toString())
                    .reversed())
            .map(c -> c.eventId().toString())
            .toList();
    assertThat(pages).isEqualTo(5);
    assertThat(new HashSet<>(seen)).hasSize(seen.size());
    assertThat(seen).containsExactlyElementsOf(expected);
  }

  @Test
  void filtersNarrowTheList() {
    UUID workflowId = UUID.randomUUID();
    Instant t = Instant.now().minus(2, ChronoUnit.HOURS).truncatedTo(ChronoUnit.MICROS);
    LlmCallRecorded analyst = call().workflow(workflowId).at(t).build();
    LlmCallRecorded architect =
        call().workflow(workflowId).at(t.plusSeconds(10)).step("design", "architect").build();
    LlmCallRecorded failed =
        call()
            .workflow(workflowId)
            .at(t.plusSeconds(20))
            .step("design", "architect")
            .model("claude-sonnet", null)
            .error()
            .build();
    ledger.publish(List.of(analyst, architect, failed));
    ledger.awaitRows(Set.of(analyst.eventId(), architect.eventId(), failed.eventId()));

    assertThat(ids("workflowId", workflowId, "agent", "architect"))
        .containsExactly(failed.eventId().toString(), architect.eventId().toString());
    assertThat(ids("workflowId", workflowId, "status", "error"))
        .containsExactly(failed.eventId().toString());
    // "model" is the answering model, or the requested one when none answered.
    assertThat(ids("workflowId", workflowId, "model", "claude-sonnet"))
        .containsExactly(failed.eventId().toString());
    assertThat(ids("workflowId", workflowId, "stepId", "analyse"))
        .containsExactly(analyst.eventId().toString());
    assertThat(
            ids(
                "workflowId",
                workflowId,
                "from",
                t.plusSeconds(10).toString(),
                "to",
                t.plusSeconds(20).toString()))
        .containsExactly(architect.eventId().toString());
    assertThat(ids("workflowId", workflowId, "conversationId", analyst.conversationId()))
        .containsExactly(analyst.eventId().toString());
  }

  @Test
  void anUnknownCostIsNullNotZero() {
    LlmCallRecorded unpriced = call().workflow(UUID.randomUUID()).cost(null).build();
    ledger.publish(unpriced);
    ledger.awaitRows(Set.of(unpriced.eventId()));

    JsonNode got = Ledger.getJson("/api/v1/llm-calls/" + unpriced.eventId());
    assertThat(got.has("costUsd")).isTrue();
    assertThat(got.get("costUsd").isNull()).isTrue();
  }

  @Test
  void anUnknownCallIs404() {
    UUID id = UUID.randomUUID();
    given()
        .get("/api/v1/llm-calls/" + id)
        .then()
        .statusCode(404)
        .contentType(PROBLEM)
        .body("status", equalTo(404))
        .body("detail", containsString(id.toString()));
  }

  @Test
  void badParametersAreProblems() {
    badRequest(
        given().queryParam("limit", 10000), "/api/v1/llm-calls", "limit must be between 1 and 500");
    badRequest(
        given().queryParam("limit", 0), "/api/v1/llm-calls", "limit must be between 1 and 500");
    badRequest(
        given().queryParam("limit", "many"), "/api/v1/llm-calls", "limit must be an integer");
    badRequest(
        given().queryParam("workflowId", "not-a-uuid"),
        "/api/v1/llm-calls",
        "workflowId must be a UUID");
    badRequest(
        given().queryParam("from", "yesterday"), "/api/v1/llm-calls", "from must be an ISO-8601");
    badRequest(
        given().queryParam("from", "2025-02-01T00:00:00Z").queryParam("to", "2025-01-01T00:00:00Z"),
        "/api/v1/llm-calls",
        "from must not be after to");
    badRequest(given().queryParam("cursor", "bm9wZQ"), "/api/v1/llm-calls", "cursor is not one");
    badRequest(
        given().queryParam("status", "maybe"), "/api/v1/llm-calls", "status must be ok or error");
    badRequest(given(), "/api/v1/llm-calls/42", "id must be a UUID");
    // A blank id was taken as none: "LLM call null does not exist".
    badRequest(
        given().urlEncodingEnabled(false),
        "/api/v1/llm-calls/%20",
        "id must be a UUID, got a blank one");
    badRequest(
        given().urlEncodingEnabled(false),
        "/api/v1/workflows/%20/usage",
        "workflowId must be a UUID, got a blank one");
  }

  @Test
  void instantsPostgresqlCannotHoldAreProblems() {
    String range = "must be between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z";
    badRequest(
        given().queryParam("from", "-271821-04-20T00:00:00Z"),
        "/api/v1/llm-calls",
        "from " + range);
    badRequest(
        given().queryParam("to", "+10000-01-01T00:00:00Z"), "/api/v1/llm-calls", "to " + range);
    badRequest(
        given().queryParam("groupBy", "day").queryParam("to", "-1000000000-01-01T00:00:00Z"),
        "/api/v1/usage",
        "to " + range);
    badRequest(
        given().queryParam("from", "0000-12-31T23:59:59Z"),
        "/api/v1/budget-events",
        "from " + range);
    String forged =
        Base64.getUrlEncoder()
            .withoutPadding()
            .encodeToString(
                ("-271821-04-20T00:00:00Z|" + UUID.randomUUID()).getBytes(StandardCharsets.UTF_8));
    badRequest(given().queryParam("cursor", forged), "/api/v1/llm-calls", "cursor is not one");

    // The bounds themselves are fine, also with the default range reaching back before year 1.
    given()
        .queryParam("from", "0001-01-01T00:00:00Z")
        .queryParam("to", "9999-12-31T23:59:59.999999Z")
        .get("/api/v1/llm-calls")
        .then()
        .statusCode(200);
    given()
        .queryParam("groupBy", "day")
        .queryParam("to", "0001-01-01T00:00:00Z")
        .get("/api/v1/usage")
        .then()
        .statusCode(200);
  }

  @Test
  void theListIsDocumentedInOpenApi() {
    given()
        .get("/q/openapi?format=json")
        .then()
        .statusCode(200)
        .body(
            "paths.'/api/v1/llm-calls'.get.parameters.name",
            org.hamcrest.Matchers.hasItems("workflowId", "cursor", "limit"))
        .body(
            "paths.'/api/v1/workflows/{workflowId}/usage'.get.responses.'404'",
            org.hamcrest.Matchers.notNullValue())
        .body(
            "components.schemas.StepUsage.properties.costUsd",
            org.hamcrest.Matchers.notNullValue());
  }

  @Test
  void readinessCoversDatabaseAndBrokerAndMetricsAreExported() {
    given()
        .get("/q/health/ready")
        .then()
        .statusCode(200)
        .body("status", equalTo("UP"))
        .body(
            "checks.name",
            org.hamcrest.Matchers.hasItems("rabbitmq", "Database connections health check"));
    LlmCallRecorded one = call().workflow(UUID.randomUUID()).build();
    ledger.publish(one);
    ledger.awaitRows(Set.of(one.eventId()));
    given()
        .get("/q/metrics")
        .then()
        .statusCode(200)
        .body(containsString("atelier_tracking_llm_calls_total{outcome=\"stored\""));
  }

  private static void badRequest(
      io.restassured.specification.RequestSpecification request, String path, String detail) {
    request
        .get(path)
        .then()
        .statusCode(400)
        .contentType(PROBLEM)
        .body("status", equalTo(400))
        .body("detail", containsString(detail));
  }

  private static List<String> ids(Object... params) {
    var request = given();
    for (int i = 0; i < params.length; i += 2) {
      request.queryParam((String) params[i], params[i + 1]);
    }
    List<String> ids = new ArrayList<>();
    JsonNode page =
        Ledger.parse(request.get("/api/v1/llm-calls").then().statusCode(200).extract().asString());
    page.get("items").forEach(item -> ids.add(item.get("id").asText()));
    return ids;
  }
}
