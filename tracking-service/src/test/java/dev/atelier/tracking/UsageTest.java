package dev.atelier.tracking;

import static dev.atelier.tracking.CallBuilder.call;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import com.fasterxml.jackson.databind.JsonNode;
import dev.atelier.contracts.LlmCallRecorded;
import dev.atelier.contracts.WorkflowStatusChanged;
import dev.atelier.kit.amqp.EventPublisher;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.function.Function;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Usage figures against sums and percentiles computed here, independently of the service's SQL. */
@QuarkusTest
class UsageTest {

  private static final String PROBLEM = "application/problem+json";

  @Inject EventPublisher publisher;
  @Inject DataSource dataSource;
  @Inject MeterRegistry registry;

  private Ledger ledger;
  private final Random random = new Random(42);

  @BeforeEach
  void setUp() {
    ledger = new Ledger(publisher, dataSource, registry);
  }

  @Test
  void workflowUsageEqualsTheSumsOfItsCallsPerStepAndAgentInPipelineOrder() {
    UUID workflowId = UUID.randomUUID();
    Instant t = Instant.now().minus(30, ChronoUnit.MINUTES);
    List<LlmCallRecorded> calls = new ArrayList<>();
    calls.addAll(calls(workflowId, "analyse", "business-analyst", t, 3, false));
    calls.addAll(calls(workflowId, "design", "architect", t.plusSeconds(60), 2, true));
    calls.addAll(calls(workflowId, "implement", "developer", t.plusSeconds(120), 4, true));
    calls.addAll(calls(workflowId, "test", "tester", t.plusSeconds(130), 2, false));
    // The reviewer sent it back: the same step again, later.
    calls.addAll(calls(workflowId, "implement", "developer", t.plusSeconds(300), 2, false));
    ledger.publish(
        new WorkflowStatusChanged(
            UUID.randomUUID(),
            WorkflowStatusChanged.TYPE,
            t,
            workflowId,
            "software-delivery",
            3,
            "Invoice export",
            "team-billing",
            "running",
            null,
            null));
    ledger.publish(calls);
    ledger.awaitRows(calls.stream().map(LlmCallRecorded::eventId).toList());
    await()
        .atMost(Ledger.PATIENCE)
        .untilAsserted(
            () -> given().get(path(workflowId)).then().body("title", equalTo("Invoice export")));

    JsonNode usage = Ledger.getJson(path(workflowId));

    assertThat(usage.get("workflowId").asText()).isEqualTo(workflowId.toString());
    assertThat(usage.get("status").asText()).isEqualTo("running");
    assertThat(usage.get("team").asText()).isEqualTo("team-billing");
    assertFigures(usage.get("totals"), Expected.of(calls));
    assertThat(usage.get("totals").get("unknownCostCalls").asLong()).isEqualTo(2);

    Map<String, List<LlmCallRecorded>> bySteps = group(calls, LlmCallRecorded::stepId);
    JsonNode steps = usage.get("byStep");
    assertThat(steps).hasSize(4);
    assertThat(
            List.of(
                text(steps, 0, "stepId"),
                text(steps, 1, "stepId"),
                text(steps, 2, "stepId"),
                text(steps, 3, "stepId")))
        .containsExactly("analyse", "design", "implement", "test");
    for (JsonNode step : steps) {
      assertFigures(step, Expected.of(bySteps.get(step.get("stepId").asText())));
    }
    assertThat(steps.get(2).get("agent").asText()).isEqualTo("developer");

    Map<String, List<LlmCallRecorded>> byAgents = group(calls, LlmCallRecorded::agent);
    JsonNode agents = usage.get("byAgent");
    assertThat(agents).hasSize(4);
    assertThat(agents.get(0).get("agent").asText()).isEqualTo("business-analyst");
    for (JsonNode agent : agents) {
      assertFigures(agent, Expected.of(byAgents.get(agent.get("agent").asText())));
    }

    // Redelivered records change no total.
    double before = ledger.duplicates();
    ledger.publish(List.of(calls.get(0), calls.get(5)));
    ledger.awaitDuplicates(before, 2);
    assertThat(Ledger.getJson(path(workflowId)).get("totals")).isEqualTo(usage.get("totals"));
  }

  @Test
  void unknownCostsAreCountedApartAndNeverAsZero() {
    UUID workflowId = UUID.randomUUID();
    List<LlmCallRecorded> calls =
        List.of(
            call().workflow(workflowId).cost(null).build(),
            call().workflow(workflowId).cost(null).build());
    ledger.publish(calls);
    ledger.awaitRows(calls.stream().map(LlmCallRecorded::eventId).toList());

    JsonNode totals = Ledger.getJson(path(workflowId)).get("totals");
    assertThat(totals.get("calls").asLong()).isEqualTo(2);
    assertThat(totals.get("unknownCostCalls").asLong()).isEqualTo(2);
    assertThat(totals.get("costUsd").isNull()).isTrue();

    // One priced call: the cost is exactly its cost, the two unknown ones still apart.
    LlmCallRecorded priced = call().workflow(workflowId).cost("0.0000000001").build();
    ledger.publish(priced);
    ledger.awaitRows(List.of(priced.eventId()));
    String body = given().get(path(workflowId)).then().statusCode(200).extract().asString();
    // Written as a plain exact decimal, not 1E-10 nor a rounded float.
    assertThat(body).contains("\"costUsd\":0.0000000001,");
    totals = Ledger.parse(body).get("totals");
    assertThat(totals.get("unknownCostCalls").asLong()).isEqualTo(2);
  }

  @Test
  void usageGroupedByAgentModelAndDayEqualsTheSums() {
    String team = "team-" + UUID.randomUUID();
    Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
    Instant yesterday = now.minus(1, ChronoUnit.DAYS);
    List<LlmCallRecorded> calls = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      String agent = i % 3 == 0 ? "architect" : "developer";
      String model = i % 2 == 0 ? "gpt-4o" : "llama-3.1-8b";
      LlmCallRecorded c =
          call()
              .workflow(UUID.randomUUID())
              .team(team)
              .step("s" + i, agent)
              .model(model, model)
              .at(i < 5 ? yesterday.plusSeconds(i) : now.minusSeconds(i))
              .tokens(random.nextInt(5000), random.nextInt(100), random.nextInt(2000), 0)
              .cost(
                  i == 7
                      ? null
                      : BigDecimal.valueOf(random.nextInt(1_000_000_000), 10).toPlainString())
              .latency(50 + random.nextInt(4000))
              .build();
      calls.add(i == 4 ? errorCopy(c) : c);
    }
    ledger.publish(calls);
    ledger.awaitRows(calls.stream().map(LlmCallRecorded::eventId).toList());

    String from = now.minus(3, ChronoUnit.DAYS).toString();
    String to = now.plusSeconds(60).toString();
    assertGroups(report("agent", team, from, to), group(calls, LlmCallRecorded::agent));
    assertGroups(report("model", team, from, to), group(calls, LlmCallRecorded::responseModel));
    JsonNode days = report("day", team, from, to);
    assertGroups(
        days, group(calls, c -> c.occurredAt().atZone(ZoneOffset.UTC).toLocalDate().toString()));
    assertThat(days.get("groups").get(0).get("key").asText())
        .isEqualTo(yesterday.atZone(ZoneOffset.UTC).toLocalDate().toString());

    // A limit keeps the biggest group and says the report is cut.
    JsonNode top =
        Ledger.getJson(
            "/api/v1/usage?groupBy=agent&limit=1&team=" + team + "&from=" + from + "&to=" + to);
    assertThat(top.get("groups")).hasSize(1);
    assertThat(top.get("groups").get(0).get("key").asText()).isEqualTo("developer");
    assertThat(top.get("truncated").asBoolean()).isTrue();
  }

  @Test
  void badUsageRequestsAreProblems() {
    problem("/api/v1/usage", 400, "groupBy must be one of");
    problem("/api/v1/usage?groupBy=colour", 400, "groupBy must be one of");
    problem(
        "/api/v1/usage?groupBy=day&from=2025-02-01T00:00:00Z&to=2025-01-01T00:00:00Z",
        400,
        "from must not be after to");
    problem("/api/v1/usage?groupBy=day&limit=5000", 400, "limit must be between 1 and 1000");
    problem(
        "/api/v1/usage?groupBy=day&from=" + Instant.now().plus(1, ChronoUnit.DAYS),
        400,
        "from must not be after to");
    problem("/api/v1/workflows/not-a-uuid/usage", 400, "workflowId must be a UUID");
    UUID unknown = UUID.randomUUID();
    problem("/api/v1/workflows/" + unknown + "/usage", 404, unknown.toString());
  }

  private List<LlmCallRecorded> calls(
      UUID workflowId, String step, String agent, Instant start, int n, boolean oneUnpriced) {
    List<LlmCallRecorded> calls = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      boolean unpriced = oneUnpriced && i == n - 1;
      LlmCallRecorded c =
          call()
              .workflow(workflowId)
              .step(step, agent)
              .at(start.plusSeconds(i))
              .tokens(
                  random.nextInt(8000),
                  random.nextInt(500),
                  random.nextInt(3000),
                  random.nextInt(200))
              .cost(
                  unpriced
                      ? null
                      : BigDecimal.valueOf(random.nextInt(1_000_000_000), 10).toPlainString())
              .latency(100 + random.nextInt(9000))
              .build();
      calls.add(i == 1 ? errorCopy(c) : c);
    }
    return calls;
  }

  private static LlmCallRecorded errorCopy(LlmCallRecorded c) {
    return new LlmCallRecorded(
        c.eventId(),
        c.type(),
        c.occurredAt(),
        c.workflowId(),
        c.stepId(),
        c.agent(),
        c.conversationId(),
        c.team(),
        c.operation(),
        c.provider(),
        c.requestModel(),
        c.responseModel(),
        LlmCallRecorded.STATUS_ERROR,
        "upstream_timeout",
        c.streamed(),
        c.inputTokens(),
        c.cachedInputTokens(),
        c.outputTokens(),
        c.reasoningTokens(),
        c.usageSource(),
        c.costUsd(),
        c.priceVersion(),
        c.startedAt(),
        c.latencyMs(),
        c.timeToFirstTokenMs(),
        c.simulated(),
        c.traceId(),
        c.spanId(),
        c.fallbackPath());
  }

  private static JsonNode report(String groupBy, String team, String from, String to) {
    return Ledger.getJson(
        "/api/v1/usage?groupBy=" + groupBy + "&team=" + team + "&from=" + from + "&to=" + to);
  }

  private static void assertGroups(JsonNode report, Map<String, List<LlmCallRecorded>> expected) {
    JsonNode groups = report.get("groups");
    assertThat(groups).hasSize(expected.size());
    assertThat(report.get("truncated").asBoolean()).isFalse();
    for (JsonNode g : groups) {
      List<LlmCallRecorded> members = expected.get(g.get("key").asText());
      assertThat(members).as("group %s", g.get("key")).isNotNull();
      assertFigures(g, Expected.of(members));
    }
  }

  private static void assertFigures(JsonNode actual, Expected e) {
    assertThat(actual.get("calls").asLong()).isEqualTo(e.calls);
    assertThat(actual.get("errors").asLong()).isEqualTo(e.errors);
    assertThat(actual.get("inputTokens").asLong()).isEqualTo(e.input);
    assertThat(actual.get("cachedInputTokens").asLong()).isEqualTo(e.cached);
    assertThat(actual.get("outputTokens").asLong()).isEqualTo(e.output);
    assertThat(actual.get("reasoningTokens").asLong()).isEqualTo(e.reasoning);
    assertThat(actual.get("unknownCostCalls").asLong()).isEqualTo(e.unknownCost);
    if (e.cost == null) {
      assertThat(actual.get("costUsd").isNull()).isTrue();
    } else {
      // Exact: the same decimal, not a float near it.
      assertThat(actual.get("costUsd").decimalValue()).isEqualByComparingTo(e.cost);
    }
    assertThat(actual.get("latencyMsP50").asDouble()).isCloseTo(e.percentile(0.5), within(1e-6));
    assertThat(actual.get("latencyMsP95").asDouble()).isCloseTo(e.percentile(0.95), within(1e-6));
  }

  private static Map<String, List<LlmCallRecorded>> group(
      List<LlmCallRecorded> calls, Function<LlmCallRecorded, String> key) {
    Map<String, List<LlmCallRecorded>> groups = new LinkedHashMap<>();
    calls.forEach(c -> groups.computeIfAbsent(key.apply(c), k -> new ArrayList<>()).add(c));
    return groups;
  }

  private static String text(JsonNode array, int i, String field) {
    return array.get(i).get(field).asText();
  }

  private static String path(UUID workflowId) {
    return "/api/v1/workflows/" + workflowId + "/usage";
  }

  private static void problem(String path, int status, String detail) {
    given()
        .get(path)
        .then()
        .statusCode(status)
        .contentType(PROBLEM)
        .body("status", equalTo(status))
        .body("detail", containsString(detail));
  }

  /** The figures computed here from the records sent. */
  private record Expected(
      long calls,
      long errors,
      long input,
      long cached,
      long output,
      long reasoning,
      BigDecimal cost,
      long unknownCost,
      List<Long> latencies) {

    static Expected of(List<LlmCallRecorded> calls) {
      BigDecimal cost = null;
      long unknown = 0;
      for (LlmCallRecorded c : calls) {
        if (c.costUsd() == null) {
          unknown++;
        } else {
          cost = cost == null ? c.costUsd() : cost.add(c.costUsd());
        }
      }
      return new Expected(
          calls.size(),
          calls.stream().filter(c -> c.status().equals(LlmCallRecorded.STATUS_ERROR)).count(),
          calls.stream().mapToLong(LlmCallRecorded::inputTokens).sum(),
          calls.stream().mapToLong(LlmCallRecorded::cachedInputTokens).sum(),
          calls.stream().mapToLong(LlmCallRecorded::outputTokens).sum(),
          calls.stream().mapToLong(LlmCallRecorded::reasoningTokens).sum(),
          cost,
          unknown,
          calls.stream().map(LlmCallRecorded::latencyMs).sorted().toList());
    }

    /** Continuous percentile: linear interpolation between the two nearest ranks. */
    double percentile(double p) {
      double position = p * (latencies.size() - 1);
      int lower = (int) Math.floor(position);
      int upper = (int) Math.ceil(position);
      double low = latencies.get(lower);
      return low + (latencies.get(upper) - low) * (position - lower);
    }
  }
}
