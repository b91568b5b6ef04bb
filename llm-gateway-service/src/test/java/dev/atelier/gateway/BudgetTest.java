package dev.atelier.gateway;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.atelier.contracts.LlmCallRecorded;
import dev.atelier.kit.amqp.RabbitBroker;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Budgets: the admin API, rejection before the provider is called (recorded), atomic settlement
 * under concurrency, soft budgets and the remaining-budget gauge. Uses the simulated provider.
 */
@QuarkusTest
class BudgetTest {

  static final String ADMIN = "Bearer atelier-local-admin-key";
  static final String KEY = "Bearer atelier-local-key";
  static final String BUDGET_TEAM_KEY = "Bearer test-key-team-budget";
  static final BudgetedChat CHAT =
      new BudgetedChat("Write release notes for the parcel tracking feature, in detail.", 5);

  @Inject RabbitBroker broker;
  @Inject ObjectMapper mapper;

  @TestHTTPResource("/v1/chat/completions")
  URI chatUri;

  RecordedCalls records;

  @BeforeEach
  void prepare() throws Exception {
    records = new RecordedCalls(broker);
    records.prepare();
  }

  private JsonNode budget(String scope, String key) throws Exception {
    Response r = given().header("Authorization", ADMIN).get("/admin/budgets/" + scope + "/" + key);
    assertThat(r.statusCode()).isEqualTo(200);
    return mapper.readTree(r.asString());
  }

  private void put(String scope, String key, String json) {
    given()
        .header("Authorization", ADMIN)
        .contentType(ContentType.JSON)
        .body(json)
        .put("/admin/budgets/" + scope + "/" + key)
        .then()
        .statusCode(200);
  }

  @Test
  void parallelCallsNeverOverspendAndEverySettlementCounts() throws Exception {
    UUID workflowId = UUID.randomUUID();
    BigDecimal limit = CHAT.worstCase().multiply(BigDecimal.valueOf(5));
    put("workflow", workflowId.toString(), "{\"limitUsd\":" + limit.toPlainString() + "}");

    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    int calls = 32;
    List<CompletableFuture<HttpResponse<String>>> sent = new ArrayList<>();
    for (int i = 0; i < calls; i++) {
      HttpRequest request =
          HttpRequest.newBuilder(chatUri)
              .header("Authorization", KEY)
              .header("Content-Type", "application/json")
              .header("X-Atelier-Workflow-Id", workflowId.toString())
              .POST(HttpRequest.BodyPublishers.ofString(CHAT.body()))
              .build();
      sent.add(client.sendAsync(request, HttpResponse.BodyHandlers.ofString()));
    }
    int ok = 0;
    int rejected = 0;
    for (CompletableFuture<HttpResponse<String>> f : sent) {
      HttpResponse<String> r = f.join();
      if (r.statusCode() == 200) {
        ok++;
      } else {
        assertThat(r.statusCode()).isEqualTo(402);
        JsonNode error = mapper.readTree(r.body()).path("error");
        assertThat(error.path("code").asText()).isEqualTo("budget_exceeded");
        assertThat(error.path("type").asText()).isEqualTo("insufficient_quota");
        assertThat(error.path("message").asText()).contains("workflow budget '" + workflowId);
        assertThat(error.path("param").asText()).isEqualTo("workflow");
        rejected++;
      }
    }
    // Five worst cases fit under the limit whatever the order, so at least five are admitted.
    assertThat(ok).isGreaterThanOrEqualTo(5);
    assertThat(rejected).isPositive();

    // Exactly one record per call; rejections are recorded with their error and no cost.
    List<LlmCallRecorded> found = new ArrayList<>();
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () -> {
              found.clear();
              found.addAll(records.forWorkflow(workflowId));
              assertThat(found).hasSize(calls);
            });
    List<LlmCallRecorded> admitted =
        found.stream().filter(r -> LlmCallRecorded.STATUS_OK.equals(r.status())).toList();
    assertThat(admitted).hasSize(ok);
    assertThat(found.stream().filter(r -> "budget_exceeded".equals(r.errorCode())))
        .hasSize(rejected)
        .allSatisfy(
            r -> {
              assertThat(r.inputTokens()).isZero();
              assertThat(r.costUsd()).isEqualByComparingTo(BigDecimal.ZERO);
            });

    // Once settled: nothing reserved, spent is exactly the sum of the recorded costs (no lost
    // increment), and within the limit (each call cost at most its reservation).
    BigDecimal recorded =
        admitted.stream()
            .map(LlmCallRecorded::costUsd)
            .map(Objects::requireNonNull)
            .reduce(BigDecimal.ZERO, BigDecimal::add);
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(
                        budget("workflow", workflowId.toString())
                            .path("reservedUsd")
                            .decimalValue())
                    .isEqualByComparingTo(BigDecimal.ZERO));
    JsonNode b = budget("workflow", workflowId.toString());
    assertThat(b.path("spentUsd").decimalValue()).isEqualByComparingTo(recorded);
    assertThat(b.path("spentUsd").decimalValue()).isLessThanOrEqualTo(limit);
    assertThat(b.path("remainingUsd").decimalValue())
        .isEqualByComparingTo(limit.subtract(recorded));
  }

  @Test
  void embeddingsAreReservedSettledRefusedAndAnnouncedLikeChat() throws Exception {
    UUID workflowId = UUID.randomUUID();
    String input =
        "Parcel tracking: the customer sees where the parcel is, hour by hour. ".repeat(20);
    // No output: the worst case is the input at text-embedding-3-small's 0.02 USD per 1M tokens,
    // and so is the actual cost. Two calls fit under 2.5 worst cases, the third does not.
    BigDecimal worst = Tokens.cost(Tokens.CL100K.countTokens(input), 0, 0, "0.02", "0", "0");
    BigDecimal limit = worst.multiply(new BigDecimal("2.5"));
    BudgetEvents events = new BudgetEvents(broker);
    events.prepare();
    String body =
        mapper
            .createObjectNode()
            .put("model", "text-embedding-3-small")
            .put("input", input)
            .put("dimensions", 4)
            .toString();
    List<Response> answers = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      answers.add(
          given()
              .header("Authorization", KEY)
              .header("X-Atelier-Workflow-Id", workflowId.toString())
              .header("X-Atelier-Workflow-Budget-Usd", limit.toPlainString())
              .contentType(ContentType.JSON)
              .body(body)
              .post("/v1/embeddings"));
      // Settled before the next call reserves: the refusal depends on spend, not on timing.
      await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () ->
                  budget("workflow", workflowId.toString())
                          .path("reservedUsd")
                          .decimalValue()
                          .signum()
                      == 0);
    }
    assertThat(answers.get(0).statusCode()).as(answers.get(0).asString()).isEqualTo(200);
    assertThat(answers.get(1).statusCode()).as(answers.get(1).asString()).isEqualTo(200);
    Response refused = answers.get(2);
    assertThat(refused.statusCode()).as(refused.asString()).isEqualTo(402);
    JsonNode error = mapper.readTree(refused.asString()).path("error");
    assertThat(error.path("code").asText()).isEqualTo("budget_exceeded");
    assertThat(error.path("type").asText()).isEqualTo("insufficient_quota");
    assertThat(error.path("message").asText()).contains("workflow budget '" + workflowId);

    List<LlmCallRecorded> found =
        await()
            .atMost(Duration.ofSeconds(20))
            .until(() -> records.forWorkflow(workflowId), l -> l.size() >= 3);
    assertThat(found).hasSize(3).allMatch(r -> "embeddings".equals(r.operation()));
    List<LlmCallRecorded> admitted =
        found.stream().filter(r -> LlmCallRecorded.STATUS_OK.equals(r.status())).toList();
    assertThat(admitted)
        .hasSize(2)
        .allSatisfy(r -> assertThat(r.costUsd()).isEqualByComparingTo(worst));
    assertThat(found.stream().filter(r -> "budget_exceeded".equals(r.errorCode())))
        .singleElement()
        .satisfies(
            r -> {
              assertThat(r.inputTokens()).isZero();
              assertThat(r.costUsd()).isEqualByComparingTo(BigDecimal.ZERO);
            });
    JsonNode b = budget("workflow", workflowId.toString());
    assertThat(b.path("spentUsd").decimalValue()).isEqualByComparingTo(worst.add(worst));
    assertThat(b.path("limitUsd").decimalValue()).isEqualByComparingTo(limit);

    // 2 of 2.5 worst cases spent: 80 %, so the 50 % and 80 % events, once each.
    UUID budgetId = UUID.fromString(b.path("id").asText());
    assertThat(
            await()
                .atMost(Duration.ofSeconds(15))
                .until(() -> events.forBudget(budgetId), l -> l.size() >= 2))
        .extracting(BudgetEvents.Received::routingKey)
        .containsExactlyInAnyOrder("budget.workflow.50", "budget.workflow.80");
  }

  @Test
  void anImageIsCountedInTheReservationAndInTheSimulatedUsage() throws Exception {
    // The budgeted prompt with an image by address: its size unknown, it counts as the largest,
    // 1,445 tokens on gpt-4o (0.0036 USD), far above two text-only worst cases.
    var withImage = (com.fasterxml.jackson.databind.node.ObjectNode) mapper.readTree(CHAT.body());
    var parts = mapper.createArrayNode();
    parts.addObject().put("type", "text").put("text", CHAT.prompt());
    parts
        .addObject()
        .put("type", "image_url")
        .putObject("image_url")
        .put("url", "https://example.com/parcel.png");
    ((com.fasterxml.jackson.databind.node.ObjectNode) withImage.path("messages").get(0))
        .set("content", parts);
    UUID workflowId = UUID.randomUUID();
    String limit = CHAT.worstCase().multiply(BigDecimal.valueOf(2)).toPlainString();

    Response refused =
        given()
            .header("Authorization", KEY)
            .header("X-Atelier-Workflow-Id", workflowId.toString())
            .header("X-Atelier-Workflow-Budget-Usd", limit)
            .contentType(ContentType.JSON)
            .body(withImage.toString())
            .post("/v1/chat/completions");
    assertThat(refused.statusCode()).as(refused.asString()).isEqualTo(402);
    given()
        .header("Authorization", KEY)
        .header("X-Atelier-Workflow-Id", workflowId.toString())
        .header("X-Atelier-Workflow-Budget-Usd", limit)
        .contentType(ContentType.JSON)
        .body(CHAT.body())
        .post("/v1/chat/completions")
        .then()
        .statusCode(200);

    // Without a budget the image call is made; the simulated provider counts its image too.
    UUID unbudgeted = UUID.randomUUID();
    for (String body : List.of(withImage.toString(), CHAT.body())) {
      given()
          .header("Authorization", KEY)
          .header("X-Atelier-Workflow-Id", unbudgeted.toString())
          .contentType(ContentType.JSON)
          .body(body)
          .post("/v1/chat/completions")
          .then()
          .statusCode(200);
    }
    List<Long> inputs =
        await()
            .atMost(Duration.ofSeconds(15))
            .until(() -> records.forWorkflow(unbudgeted), l -> l.size() == 2)
            .stream()
            .map(LlmCallRecorded::inputTokens)
            .sorted()
            .toList();
    assertThat(inputs.get(1) - inputs.get(0)).isEqualTo(85 + 8 * 170);
  }

  @Test
  void teamBudgetRejectsThenSoftBudgetOnlyTracksAndTheGaugeFollows() throws Exception {
    given().header("Authorization", ADMIN).delete("/admin/budgets/team/team-budget");
    put("team", "team-budget", "{\"limitUsd\":0}");

    UUID rejectedWorkflow = UUID.randomUUID();
    Response r =
        given()
            .header("Authorization", BUDGET_TEAM_KEY)
            .header("X-Atelier-Workflow-Id", rejectedWorkflow.toString())
            .contentType(ContentType.JSON)
            .body(CHAT.body())
            .post("/v1/chat/completions");
    assertThat(r.statusCode()).isEqualTo(402);
    assertThat(r.jsonPath().getString("error.code")).isEqualTo("budget_exceeded");
    assertThat(r.jsonPath().getString("error.message")).contains("team budget 'team-budget'");
    assertThat(r.jsonPath().getString("error.param")).isEqualTo("team");
    LlmCallRecorded rejected =
        await()
            .atMost(Duration.ofSeconds(15))
            .until(() -> records.forWorkflow(rejectedWorkflow), l -> l.size() == 1)
            .get(0);
    assertThat(rejected.status()).isEqualTo(LlmCallRecorded.STATUS_ERROR);
    assertThat(rejected.errorCode()).isEqualTo("budget_exceeded");
    assertThat(rejected.team()).isEqualTo("team-budget");
    assertThat(rejected.eventId().toString()).isEqualTo(r.header("X-Atelier-Call-Id"));

    // Another team is not affected.
    given()
        .header("Authorization", KEY)
        .contentType(ContentType.JSON)
        .body(CHAT.body())
        .post("/v1/chat/completions")
        .then()
        .statusCode(200);

    // A soft budget lets the call through and still counts what it cost.
    put("team", "team-budget", "{\"limitUsd\":0,\"hard\":false}");
    UUID softWorkflow = UUID.randomUUID();
    given()
        .header("Authorization", BUDGET_TEAM_KEY)
        .header("X-Atelier-Workflow-Id", softWorkflow.toString())
        .contentType(ContentType.JSON)
        .body(CHAT.body())
        .post("/v1/chat/completions")
        .then()
        .statusCode(200);
    BigDecimal cost =
        await()
            .atMost(Duration.ofSeconds(15))
            .until(() -> records.forWorkflow(softWorkflow), l -> l.size() == 1)
            .get(0)
            .costUsd();
    assertThat(cost).isPositive();
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(budget("team", "team-budget").path("spentUsd").decimalValue())
                    .isEqualByComparingTo(cost));
    String line =
        given()
            .get("/q/metrics")
            .asString()
            .lines()
            .filter(l -> l.startsWith("atelier_llm_budget_remaining_usd{"))
            .filter(l -> l.contains("key=\"team-budget\"") && l.contains("scope=\"team\""))
            .findFirst()
            .orElseThrow();
    double gauge = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
    assertThat(gauge).isCloseTo(-cost.doubleValue(), org.assertj.core.data.Offset.offset(1e-12));
  }

  @Test
  void adminBudgetsAreProblemJsonAndBadInputStoresNothing() {
    given().get("/admin/budgets").then().statusCode(401).contentType("application/problem+json");
    String key = UUID.randomUUID().toString();
    for (String[] bad :
        new String[][] {
          {"team/" + key, "{\"limitUsd\":-1}"},
          {"team/" + key, "{\"hard\":true}"},
          {"project/" + key, "{\"limitUsd\":1}"},
          {"workflow/not-a-uuid", "{\"limitUsd\":1}"},
        }) {
      given()
          .header("Authorization", ADMIN)
          .contentType(ContentType.JSON)
          .body(bad[1])
          .put("/admin/budgets/" + bad[0])
          .then()
          .statusCode(400)
          .contentType("application/problem+json");
    }
    given()
        .header("Authorization", ADMIN)
        .get("/admin/budgets/team/" + key)
        .then()
        .statusCode(404)
        .contentType("application/problem+json");

    put("team", key, "{\"limitUsd\":12.5}");
    Response list =
        given().header("Authorization", ADMIN).queryParam("scope", "team").get("/admin/budgets");
    assertThat(list.jsonPath().getList("items.key", String.class)).contains(key);
    assertThat(list.jsonPath().getList("items.scope", String.class)).containsOnly("team");
    given()
        .header("Authorization", ADMIN)
        .delete("/admin/budgets/team/" + key)
        .then()
        .statusCode(204);
    given()
        .header("Authorization", ADMIN)
        .delete("/admin/budgets/team/" + key)
        .then()
        .statusCode(404)
        .contentType("application/problem+json");
  }
}
