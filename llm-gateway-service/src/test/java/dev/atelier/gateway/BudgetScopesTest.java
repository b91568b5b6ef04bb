package dev.atelier.gateway;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.atelier.contracts.BudgetThresholdCrossed;
import dev.atelier.contracts.Headers;
import dev.atelier.contracts.LlmCallRecorded;
import dev.atelier.gateway.budget.BudgetRepository;
import dev.atelier.gateway.budget.BudgetService;
import dev.atelier.kit.amqp.RabbitBroker;
import dev.atelier.kit.db.ShadowTable;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;
import jakarta.inject.Inject;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Budget scopes and periods: day and month budgets start at zero in a new period (the clock is
 * moved, not waited for), global + team + workflow budgets are reserved all or nothing, soft
 * budgets never refuse, workflow budgets come from the {@code X-Atelier-Workflow-Budget-Usd}
 * header, each threshold crossing is published once per period, and a reservation never settled is
 * charged in full to the period it was made in.
 */
@QuarkusTest
class BudgetScopesTest {

  static final String ADMIN = "Bearer atelier-local-admin-key";
  static final String PERIODS_KEY = "Bearer test-key-team-periods";
  static final String THRESHOLDS_KEY = "Bearer test-key-team-thresholds";
  static final BudgetedChat CHAT =
      new BudgetedChat("Summarise the parcel tracking feature for the release notes.", 5);

  @Inject RabbitBroker broker;
  @Inject ObjectMapper mapper;
  @Inject TestClock clock;
  @Inject DataSource dataSource;
  @Inject BudgetRepository budgetRepository;
  @Inject BudgetService budgetService;

  RecordedCalls records;
  BudgetEvents events;

  @BeforeEach
  void prepare() throws Exception {
    records = new RecordedCalls(broker);
    records.prepare();
    events = new BudgetEvents(broker);
    events.prepare();
    deleteAll("team", "team-periods");
    deleteAll("team", "team-thresholds");
    deleteAll("global", "*");
  }

  @AfterEach
  void restore() {
    clock.reset();
    // A global budget left behind would apply to every other test's calls.
    deleteAll("global", "*");
  }

  // ---- helpers ---------------------------------------------------------------------------

  private Response chat(String key, UUID workflowId, String workflowBudget) {
    RequestSpecification r =
        given().header("Authorization", key).contentType(ContentType.JSON).body(CHAT.body());
    if (workflowId != null) {
      r = r.header(Headers.WORKFLOW_ID, workflowId.toString());
    }
    if (workflowBudget != null) {
      r = r.header(Headers.WORKFLOW_BUDGET_USD, workflowBudget);
    }
    return r.post("/v1/chat/completions");
  }

  private JsonNode put(String scope, String key, String period, BigDecimal limit, boolean hard)
      throws Exception {
    Response r =
        given()
            .header("Authorization", ADMIN)
            .contentType(ContentType.JSON)
            .body(
                "{\"limitUsd\":"
                    + limit.toPlainString()
                    + ",\"hard\":"
                    + hard
                    + ",\"period\":\""
                    + period
                    + "\"}")
            .put("/admin/budgets/" + scope + "/" + key);
    assertThat(r.statusCode()).as(r.asString()).isEqualTo(200);
    return mapper.readTree(r.asString());
  }

  private JsonNode budget(String scope, String key, String period) throws Exception {
    Response r =
        given()
            .header("Authorization", ADMIN)
            .queryParam("period", period)
            .get("/admin/budgets/" + scope + "/" + key);
    assertThat(r.statusCode()).as(r.asString()).isEqualTo(200);
    return mapper.readTree(r.asString());
  }

  /** The budget once no call holds a reservation on it (settlement is asynchronous). */
  private JsonNode settled(String scope, String key, String period) {
    return await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () -> budget(scope, key, period),
            b -> b.path("reservedUsd").decimalValue().signum() == 0);
  }

  private void deleteAll(String scope, String key) {
    for (String period : List.of("total", "day", "month")) {
      given()
          .header("Authorization", ADMIN)
          .queryParam("period", period)
          .delete("/admin/budgets/" + scope + "/" + key);
    }
  }

  private static void assertRejected(Response r, String... named) {
    assertThat(r.statusCode()).as(r.asString()).isEqualTo(402);
    assertThat(r.jsonPath().getString("error.type")).isEqualTo("insufficient_quota");
    assertThat(r.jsonPath().getString("error.code")).isEqualTo("budget_exceeded");
    assertThat(r.jsonPath().getString("error.message")).contains(named);
  }

  private static BigDecimal spent(JsonNode budget) {
    return budget.path("spentUsd").decimalValue();
  }

  // ---- tests -----------------------------------------------------------------------------

  @Test
  void dayAndMonthBudgetsStartAtZeroInANewPeriod() throws Exception {
    BigDecimal wc = CHAT.worstCase();
    clock.set(Instant.parse("2026-03-31T23:50:00Z"));
    put("team", "team-periods", "day", wc.multiply(BigDecimal.TEN), true);
    put("team", "team-periods", "month", wc.multiply(new BigDecimal("1.2")), true);

    assertThat(chat(PERIODS_KEY, UUID.randomUUID(), null).statusCode()).isEqualTo(200);
    settled("team", "team-periods", "month");
    // A call costs at least its prompt, about half its worst case, so what is left of the month is
    // less than the next call's reservation: it is refused, naming the month budget.
    assertRejected(
        chat(PERIODS_KEY, UUID.randomUUID(), null),
        "team budget 'team-periods' (month from 2026-03-01T00:00:00Z)",
        "USD spent");

    // Past midnight on the last day of the month, both periods start again at zero.
    clock.set(Instant.parse("2026-04-01T00:10:00Z"));
    assertThat(chat(PERIODS_KEY, UUID.randomUUID(), null).statusCode()).isEqualTo(200);
    JsonNode april = settled("team", "team-periods", "month");
    assertThat(april.path("periodStart").asText()).isEqualTo("2026-04-01T00:00:00Z");
    BigDecimal oneCall = spent(april);
    assertThat(oneCall).isPositive().isLessThanOrEqualTo(wc);
    JsonNode firstApril = settled("team", "team-periods", "day");
    assertThat(firstApril.path("periodStart").asText()).isEqualTo("2026-04-01T00:00:00Z");
    assertThat(spent(firstApril)).isEqualByComparingTo(oneCall);

    // A daily limit that this day's spend has reached refuses until the next day.
    given()
        .header("Authorization", ADMIN)
        .delete("/admin/budgets/team/team-periods?period=month")
        .then()
        .statusCode(204);
    put("team", "team-periods", "day", oneCall, true);
    assertRejected(
        chat(PERIODS_KEY, UUID.randomUUID(), null),
        "team budget 'team-periods' (day from 2026-04-01T00:00:00Z)");
    clock.set(Instant.parse("2026-04-02T00:00:01Z"));
    assertThat(chat(PERIODS_KEY, UUID.randomUUID(), null).statusCode()).isEqualTo(200);
    JsonNode secondApril = settled("team", "team-periods", "day");
    assertThat(secondApril.path("periodStart").asText()).isEqualTo("2026-04-02T00:00:00Z");
    assertThat(spent(secondApril)).isEqualByComparingTo(oneCall);

    // Team budgets are gauges with their period: remaining and limit.
    String metrics = given().get("/q/metrics").asString();
    assertThat(metrics)
        .containsPattern(
            "atelier_llm_budget_limit_usd\\{[^}]*key=\"team-periods\",period=\"day\",scope=\"team\"\\}")
        .containsPattern(
            "atelier_llm_budget_remaining_usd\\{[^}]*key=\"team-periods\",period=\"day\",scope=\"team\"\\}");
  }

  @Test
  void everyApplicableBudgetIsReservedOrNoneIsAndSoftBudgetsNeverRefuse() throws Exception {
    BigDecimal plenty = new BigDecimal("1000");
    UUID workflowId = UUID.randomUUID();
    put("global", "*", "total", plenty, true);
    put("team", "team-periods", "month", plenty, true);

    // 1. The workflow budget (created from the header, hard, 0 USD) refuses.
    assertRejected(chat(PERIODS_KEY, workflowId, "0"), "workflow budget '" + workflowId + "'");
    JsonNode created = budget("workflow", workflowId.toString(), "total");
    assertThat(created.path("limitUsd").decimalValue()).isEqualByComparingTo("0");
    assertThat(created.path("hard").asBoolean()).isTrue();

    // 2. The global budget refuses; the header raised the workflow's limit first (it stands).
    put("global", "*", "total", BigDecimal.ZERO, true);
    assertRejected(chat(PERIODS_KEY, workflowId, "1000"), "global budget '*' (total)");
    assertThat(budget("workflow", workflowId.toString(), "total").path("limitUsd").decimalValue())
        .isEqualByComparingTo("1000");

    // 3. The team's month budget refuses.
    put("global", "*", "total", plenty, true);
    put("team", "team-periods", "month", BigDecimal.ZERO, true);
    assertRejected(
        chat(PERIODS_KEY, workflowId, "1000"), "team budget 'team-periods' (month from ");

    // Whichever budget refused, and in whatever order they were locked, none kept a reservation
    // or a charge.
    for (String[] b :
        new String[][] {
          {"global", "*", "total"},
          {"team", "team-periods", "month"},
          {"workflow", workflowId.toString(), "total"}
        }) {
      JsonNode now = budget(b[0], b[1], b[2]);
      assertThat(now.path("reservedUsd").decimalValue()).as(b[0]).isEqualByComparingTo("0");
      assertThat(spent(now)).as(b[0]).isEqualByComparingTo("0");
    }

    // 4. A soft budget at its limit lets the call through; every budget is charged its cost.
    put("team", "team-periods", "month", BigDecimal.ZERO, false);
    assertThat(chat(PERIODS_KEY, workflowId, "1000").statusCode()).isEqualTo(200);
    BigDecimal cost = spent(settled("global", "*", "total"));
    assertThat(cost).isPositive();
    assertThat(spent(settled("team", "team-periods", "month"))).isEqualByComparingTo(cost);
    JsonNode workflow = settled("workflow", workflowId.toString(), "total");
    assertThat(spent(workflow)).isEqualByComparingTo(cost);
    assertThat(workflow.path("limitUsd").decimalValue()).isEqualByComparingTo("1000");

    // One record per call: three refusals (no cost) and the admitted call.
    List<LlmCallRecorded> found =
        await()
            .atMost(Duration.ofSeconds(15))
            .until(() -> records.forWorkflow(workflowId), l -> l.size() == 4);
    assertThat(found.stream().filter(r -> "budget_exceeded".equals(r.errorCode())))
        .hasSize(3)
        .allSatisfy(
            r -> {
              assertThat(r.status()).isEqualTo(LlmCallRecorded.STATUS_ERROR);
              assertThat(r.costUsd()).isEqualByComparingTo(BigDecimal.ZERO);
            });
    assertThat(found.stream().filter(r -> LlmCallRecorded.STATUS_OK.equals(r.status())))
        .singleElement()
        .satisfies(r -> assertThat(r.costUsd()).isEqualByComparingTo(cost));
  }

  @Test
  void theWorkflowBudgetHeaderCreatesThenUpdatesAndBadValuesAreRefused() throws Exception {
    UUID workflowId = UUID.randomUUID();
    for (String bad : List.of("abc", "-1", "1e40", "0.0000000000001", "", "NaN")) {
      Response r = chat(PERIODS_KEY, workflowId, bad);
      assertThat(r.statusCode()).as(bad).isEqualTo(400);
      assertThat(r.jsonPath().getString("error.type")).isEqualTo("invalid_request_error");
      assertThat(r.jsonPath().getString("error.param")).isEqualTo(Headers.WORKFLOW_BUDGET_USD);
      assertThat(r.jsonPath().getString("error.message")).contains(Headers.WORKFLOW_BUDGET_USD);
    }
    Response noWorkflow = chat(PERIODS_KEY, null, "1.00");
    assertThat(noWorkflow.statusCode()).isEqualTo(400);
    assertThat(noWorkflow.jsonPath().getString("error.message")).contains(Headers.WORKFLOW_ID);
    // Bad input changes nothing.
    given()
        .header("Authorization", ADMIN)
        .get("/admin/budgets/workflow/" + workflowId)
        .then()
        .statusCode(404)
        .contentType("application/problem+json");

    assertThat(chat(PERIODS_KEY, workflowId, "0.50").statusCode()).isEqualTo(200);
    JsonNode first = settled("workflow", workflowId.toString(), "total");
    assertThat(first.path("limitUsd").decimalValue()).isEqualByComparingTo("0.50");
    assertThat(first.path("hard").asBoolean()).isTrue();
    BigDecimal cost = spent(first);
    assertThat(cost).isPositive();

    // A retried workflow comes back with a raised budget: the limit follows, the spend is kept.
    assertThat(chat(PERIODS_KEY, workflowId, "0.75").statusCode()).isEqualTo(200);
    JsonNode second = settled("workflow", workflowId.toString(), "total");
    assertThat(second.path("limitUsd").decimalValue()).isEqualByComparingTo("0.75");
    assertThat(spent(second)).isEqualByComparingTo(cost.add(cost));

    // A lowered one refuses once it no longer covers the spend.
    assertRejected(
        chat(PERIODS_KEY, workflowId, cost.toPlainString()),
        "workflow budget '" + workflowId + "' (total)");
  }

  @Test
  void eachThresholdIsPublishedOncePerPeriod() throws Exception {
    clock.set(Instant.parse("2026-05-10T12:00:00Z"));
    // What one call costs (the simulated provider answers the same prompt alike), measured on a
    // budget far from its thresholds, which is then replaced.
    put("team", "team-thresholds", "day", BigDecimal.ONE, false);
    assertThat(chat(THRESHOLDS_KEY, UUID.randomUUID(), null).statusCode()).isEqualTo(200);
    BigDecimal cost = spent(settled("team", "team-thresholds", "day"));
    assertThat(cost).isPositive();
    given()
        .header("Authorization", ADMIN)
        .delete("/admin/budgets/team/team-thresholds")
        .then()
        .statusCode(204);
    // A soft limit of exactly two calls.
    UUID budgetId =
        UUID.fromString(
            put("team", "team-thresholds", "day", cost.add(cost), false).path("id").asText());

    // Call 1: 50 %. Call 2: 100 % (80 and 100 at once). Call 3: 150 %, nothing new.
    for (int i = 0; i < 3; i++) {
      assertThat(chat(THRESHOLDS_KEY, UUID.randomUUID(), null).statusCode()).isEqualTo(200);
      settled("team", "team-thresholds", "day");
    }
    UUID id = budgetId;
    Instant day = Instant.parse("2026-05-10T00:00:00Z");
    List<BudgetEvents.Received> got =
        await()
            .atMost(Duration.ofSeconds(15))
            .until(() -> events.forBudget(id), l -> l.size() >= 3);
    assertThat(got)
        .extracting(BudgetEvents.Received::routingKey)
        .containsExactlyInAnyOrder("budget.team.50", "budget.team.80", "budget.team.100");
    assertThat(got)
        .allSatisfy(
            e -> {
              BudgetThresholdCrossed ev = e.event();
              assertThat(ev.type()).isEqualTo(BudgetThresholdCrossed.TYPE);
              assertThat(ev.eventId())
                  .isEqualTo(BudgetThresholdCrossed.eventIdFor(id, day, ev.thresholdPercent()));
              assertThat(ev.scope()).isEqualTo("team");
              assertThat(ev.scopeKey()).isEqualTo("team-thresholds");
              assertThat(ev.period()).isEqualTo("day");
              assertThat(ev.periodStart()).isEqualTo(day);
              assertThat(ev.hard()).isFalse();
              assertThat(ev.workflowId()).isNull();
              assertThat(ev.limitUsd()).isEqualByComparingTo(cost.add(cost));
              BigDecimal expected = ev.thresholdPercent() == 50 ? cost : cost.add(cost);
              assertThat(ev.spentUsd()).isEqualByComparingTo(expected);
            });

    // A new day starts over: its first call announces 50 % again, for the new period.
    clock.set(Instant.parse("2026-05-11T00:00:05Z"));
    assertThat(chat(THRESHOLDS_KEY, UUID.randomUUID(), null).statusCode()).isEqualTo(200);
    List<BudgetEvents.Received> all =
        await()
            .atMost(Duration.ofSeconds(15))
            .until(() -> events.forBudget(id), l -> l.size() >= 4);
    // The outbox is empty once published, and nothing was announced twice.
    await().atMost(Duration.ofSeconds(10)).until(() -> outboxed(BudgetThresholdCrossed.TYPE) == 0);
    // ... and stays so: no fifth event arrives while the relay keeps running.
    all =
        await()
            .during(Duration.ofMillis(1500))
            .atMost(Duration.ofSeconds(5))
            .until(() -> events.forBudget(id), l -> l.size() == 4);
    assertThat(all).hasSize(4);
    assertThat(all.get(3).event().periodStart()).isEqualTo(Instant.parse("2026-05-11T00:00:00Z"));
    assertThat(all.get(3).event().thresholdPercent()).isEqualTo(50);
    assertThat(thresholdRows(id)).isEqualTo(4);
  }

  /**
   * Settling and expiring are planned for the reservations as they are: a plan cached while there
   * were few (analysed so) would scan every open reservation of a busy gateway at each settlement.
   */
  @Test
  void settlingAmongManyOpenReservationsDoesNotScanThem() throws Exception {
    // One transaction, so the repository works on this connection; rolled back at the end.
    QuarkusTransaction.begin();
    try (Connection c = dataSource.getConnection()) {
      // No reservation, and analysed so.
      ShadowTable shadow = ShadowTable.of(c, "budget_reservation");
      shadow.analyse();
      for (int i = 0; i < 15; i++) {
        budgetRepository.settle(UUID.randomUUID(), BigDecimal.ONE);
        budgetRepository.expire(Instant.now());
      }
      // Then many calls in flight.
      shadow.fill(
          20000,
          "call_id, budget_id, period_start, amount_usd, expires_at",
          "gen_random_uuid(), gen_random_uuid(), now(), 0.01, now() + interval '1 hour'");
      long scansBefore = shadow.sequentialScans();
      budgetRepository.settle(UUID.randomUUID(), BigDecimal.ONE);
      budgetRepository.expire(Instant.now());

      assertThat(shadow.sequentialScans())
          .as("sequential scans of the reservations")
          .isEqualTo(scansBefore);
      assertThat(shadow.rows()).isEqualTo(20000);
    } finally {
      QuarkusTransaction.rollback();
    }
  }

  @Test
  void aReservationNeverSettledIsChargedInFullToThePeriodItWasMadeIn() throws Exception {
    Instant lastOfJune = Instant.parse("2026-06-30T23:59:00Z");
    clock.set(lastOfJune);
    put("team", "team-periods", "month", BigDecimal.ONE, true);
    BigDecimal amount = new BigDecimal("0.6");
    UUID callId = UUID.randomUUID();
    // As a replica does before calling the provider; it is killed before it settles.
    budgetRepository.reserve(
        callId,
        new BudgetRepository.Scope("team-periods", null),
        null,
        amount,
        lastOfJune,
        Instant.now().plusSeconds(3));
    assertThat(budget("team", "team-periods", "month").path("reservedUsd").decimalValue())
        .isEqualByComparingTo(amount);

    // July has begun when the reservation expires: June is charged, July starts at zero.
    clock.set(Instant.parse("2026-07-01T00:01:00Z"));
    // (The replicas' housekeeping would do this within the refresh interval; done here at once.)
    budgetRepository.expire(Instant.now().plusSeconds(4));
    JsonNode july = budget("team", "team-periods", "month");
    assertThat(july.path("periodStart").asText()).isEqualTo("2026-07-01T00:00:00Z");
    assertThat(spent(july)).isEqualByComparingTo("0");
    clock.set(lastOfJune);
    JsonNode june = budget("team", "team-periods", "month");
    assertThat(june.path("reservedUsd").decimalValue()).isEqualByComparingTo("0");
    assertThat(spent(june)).isEqualByComparingTo(amount);
    // Charged like a settlement: 0.6 of 1 USD crossed the 50 % threshold of June.
    UUID budgetId = UUID.fromString(june.path("id").asText());
    List<BudgetEvents.Received> got =
        await()
            .atMost(Duration.ofSeconds(15))
            .until(() -> events.forBudget(budgetId), l -> !l.isEmpty());
    assertThat(got)
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.routingKey()).isEqualTo("budget.team.50");
              assertThat(e.event().periodStart()).isEqualTo(Instant.parse("2026-06-01T00:00:00Z"));
            });
    // Expiring again finds nothing left to charge.
    assertThat(budgetRepository.expire(Instant.now().plusSeconds(4)).budgets()).isEmpty();
  }

  @Test
  void aCallThatOutlivesItsReservationIsChargedItsActualCostWhenItSettles() throws Exception {
    put("team", "team-periods", "total", BigDecimal.TEN, true);
    BudgetRepository.Scope scope = new BudgetRepository.Scope("team-periods", null);
    UUID longStream = UUID.randomUUID();
    UUID cheap = UUID.randomUUID();
    for (UUID call : List.of(longStream, cheap)) {
      budgetRepository.reserve(
          call, scope, null, new BigDecimal("0.6"), Instant.now(), Instant.now().plusSeconds(3));
    }
    UUID lost = UUID.randomUUID(); // its replica dies: never settled
    budgetRepository.reserve(
        lost, scope, null, new BigDecimal("0.3"), Instant.now(), Instant.now().plusSeconds(3));
    // All three outlive their reservations: charged in full meanwhile, nothing reserved.
    budgetRepository.expire(Instant.now().plusSeconds(4));
    JsonNode expired = budget("team", "team-periods", "total");
    assertThat(spent(expired)).isEqualByComparingTo("1.5");
    assertThat(expired.path("reservedUsd").decimalValue()).isEqualByComparingTo("0");
    String kept = "select count(*) from budget_reservation where call_id = ?";
    assertThat(count(kept, lost)).isEqualTo(1);

    // Then they end: the charge becomes what each cost, more or less than reserved.
    budgetRepository.settle(longStream, new BigDecimal("2.5"));
    budgetRepository.settle(cheap, new BigDecimal("0.1"));
    JsonNode after = budget("team", "team-periods", "total");
    assertThat(spent(after)).isEqualByComparingTo("2.9");
    assertThat(after.path("reservedUsd").decimalValue()).isEqualByComparingTo("0");
    // Once each: a second settlement or expiry finds nothing.
    budgetRepository.settle(cheap, new BigDecimal("0.1"));
    assertThat(budgetRepository.expire(Instant.now().plusSeconds(4)).budgets()).isEmpty();
    assertThat(spent(budget("team", "team-periods", "total"))).isEqualByComparingTo("2.9");
    // A day on, the one never settled is gone, charged as it was; settling it then changes nothing.
    budgetRepository.expire(Instant.now().plus(Duration.ofDays(1)).plusSeconds(10));
    assertThat(count(kept, lost)).isZero();
    budgetRepository.settle(lost, BigDecimal.ZERO);
    assertThat(spent(budget("team", "team-periods", "total"))).isEqualByComparingTo("2.9");
  }

  @Test
  void aWorkflowBudgetACallerDeclaredIsNotCachedOneAnAdminSetAppliesToEveryCall() throws Exception {
    UUID declared = UUID.randomUUID();
    assertThat(chat(PERIODS_KEY, declared, "0.50").statusCode()).isEqualTo(200);
    assertThat(settled("workflow", declared.toString(), "total").path("setBy").asText())
        .isEqualTo("caller");
    budgetService.refresh();
    // One per budgeted workflow, and the header comes with each call it applies to: not cached.
    assertThat(budgetService.applies("team-periods", declared, null)).isFalse();
    assertThat(budgetService.applies("team-periods", declared, new BigDecimal("0.50"))).isTrue();

    // An admin caps a workflow that declares no budget: its calls are refused without a header.
    UUID capped = UUID.randomUUID();
    assertThat(
            put("workflow", capped.toString(), "total", BigDecimal.ZERO, true)
                .path("setBy")
                .asText())
        .isEqualTo("admin");
    assertThat(budgetService.applies("team-periods", capped, null)).isTrue();
    assertRejected(chat(PERIODS_KEY, capped, null), "workflow budget '" + capped + "' (total)");

    // An admin's change makes a declared budget the admin's, and a later declaration keeps it so.
    put("workflow", declared.toString(), "total", BigDecimal.ONE, true);
    assertThat(budgetService.applies("team-periods", declared, null)).isTrue();
    assertThat(chat(PERIODS_KEY, declared, "0.75").statusCode()).isEqualTo(200);
    JsonNode after = settled("workflow", declared.toString(), "total");
    assertThat(after.path("setBy").asText()).isEqualTo("admin");
    assertThat(after.path("limitUsd").decimalValue()).isEqualByComparingTo("0.75");
  }

  @Test
  void onlyTheTeamThatDeclaredAWorkflowBudgetCanChangeItOrSpendFromIt() throws Exception {
    UUID workflowId = UUID.randomUUID();
    assertThat(chat(PERIODS_KEY, workflowId, "0.50").statusCode()).isEqualTo(200);
    BigDecimal spent = spent(settled("workflow", workflowId.toString(), "total"));

    // Another team's key would stop the workflow by lowering its budget, or charge its calls to it.
    Response lowered = chat(THRESHOLDS_KEY, workflowId, "0.000001");
    assertNotAllowed(lowered, workflowId);
    // The workers' service key acting for another team is refused the same way.
    assertNotAllowed(serviceChat("team-thresholds", workflowId, "0.50"), workflowId);

    JsonNode after = settled("workflow", workflowId.toString(), "total");
    assertThat(after.path("limitUsd").decimalValue()).isEqualByComparingTo("0.50");
    assertThat(spent(after)).isEqualByComparingTo(spent);

    // Acting for the team that declared it, the service key raises it (a retried workflow).
    assertThat(serviceChat("team-periods", workflowId, "0.75").statusCode()).isEqualTo(200);
    JsonNode raised = settled("workflow", workflowId.toString(), "total");
    assertThat(raised.path("limitUsd").decimalValue()).isEqualByComparingTo("0.75");
    assertThat(spent(raised)).isGreaterThan(spent);

    // An admin's cap stays the admin's: a declaration does not make it one team's.
    UUID capped = UUID.randomUUID();
    put("workflow", capped.toString(), "total", BigDecimal.ONE, true);
    budgetService.refresh();
    assertThat(chat(PERIODS_KEY, capped, "2").statusCode()).isEqualTo(200);
    assertThat(chat(THRESHOLDS_KEY, capped, null).statusCode()).isEqualTo(200);
    deleteAll("workflow", capped.toString());
    budgetService.refresh();
  }

  private Response serviceChat(String team, UUID workflowId, String workflowBudget) {
    return given()
        .header("Authorization", "Bearer test-key-service")
        .header(Headers.TEAM, team)
        .header(Headers.WORKFLOW_ID, workflowId.toString())
        .header(Headers.WORKFLOW_BUDGET_USD, workflowBudget)
        .contentType(ContentType.JSON)
        .body(CHAT.body())
        .post("/v1/chat/completions");
  }

  private static void assertNotAllowed(Response r, UUID workflowId) {
    assertThat(r.statusCode()).as(r.asString()).isEqualTo(403);
    assertThat(r.jsonPath().getString("error.type")).isEqualTo("permission_error");
    assertThat(r.jsonPath().getString("error.code")).isEqualTo("workflow_not_allowed");
    assertThat(r.jsonPath().getString("error.param")).isEqualTo(Headers.WORKFLOW_ID);
    assertThat(r.jsonPath().getString("error.message"))
        .contains(workflowId.toString())
        .contains("another team");
  }

  @Test
  void theBudgetListIsPagedInKeyOrderAndRefusesBadPages() throws Exception {
    String prefix = "paged-" + UUID.randomUUID() + "-";
    List<String> mine = List.of(prefix + "a", prefix + "b", prefix + "c");
    for (String team : mine) {
      put("team", team, "total", BigDecimal.ONE, true);
    }
    try {
      List<String> seen = new java.util.ArrayList<>();
      String cursor = null;
      int pages = 0;
      do {
        RequestSpecification r =
            given()
                .header("Authorization", ADMIN)
                .queryParam("scope", "team")
                .queryParam("limit", 2);
        if (cursor != null) {
          r = r.queryParam("cursor", cursor);
        }
        Response page = r.get("/admin/budgets");
        assertThat(page.statusCode()).as(page.asString()).isEqualTo(200);
        List<String> keys = page.jsonPath().getList("items.key", String.class);
        assertThat(keys).hasSizeLessThanOrEqualTo(2);
        seen.addAll(keys);
        cursor = page.jsonPath().getString("nextCursor");
        assertThat(++pages).as("pages").isLessThan(10_000);
      } while (cursor != null);
      assertThat(seen).doesNotHaveDuplicates();
      assertThat(seen.stream().filter(k -> k.startsWith(prefix)).toList()).isEqualTo(mine);
    } finally {
      mine.forEach(team -> deleteAll("team", team));
    }

    for (String[] bad :
        new String[][] {
          {"limit", "0", "limit-exceeded"},
          {"limit", "1001", "limit-exceeded"},
          {"cursor", "not a cursor", "invalid-cursor"},
          // Well-formed base64 of something this API never returned.
          {"cursor", "cHJvamVjdAp0b3RhbAp4", "invalid-cursor"},
          {"scope", "project", "invalid-scope"},
        }) {
      given()
          .header("Authorization", ADMIN)
          .queryParam(bad[0], bad[1])
          .get("/admin/budgets")
          .then()
          .statusCode(400)
          .contentType("application/problem+json")
          .body("type", org.hamcrest.Matchers.endsWith("/" + bad[2]));
    }
  }

  @Test
  void theAdminApiNamesScopesAndPeriodsAndRefusesWhatItCannotStore() throws Exception {
    String workflow = UUID.randomUUID().toString();
    for (String[] bad :
        new String[][] {
          {"global/all", "{\"limitUsd\":1}"},
          {"team/team-periods", "{\"limitUsd\":1,\"period\":\"week\"}"},
          {"team/team-periods?period=day", "{\"limitUsd\":1,\"period\":\"month\"}"},
          {"workflow/" + workflow, "{\"limitUsd\":1,\"period\":\"day\"}"},
          {"team/team-periods", "{\"limitUsd\":0.0000000000001}"},
          // 13 integer digits overflow numeric(24,12), however few significant digits they have.
          {"team/team-periods", "{\"limitUsd\":1e13}"},
          {"team/team-periods", "{\"limitUsd\":9999999999999.5}"},
          {"team/team-periods", "{\"limitUsd\":"},
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
        .get("/admin/budgets?scope=team&period=week")
        .then()
        .statusCode(400)
        .contentType("application/problem+json");
    // Nothing was stored by the refused requests.
    given()
        .header("Authorization", ADMIN)
        .get("/admin/budgets/team/team-periods")
        .then()
        .statusCode(404)
        .contentType("application/problem+json");

    // The widest limit the column holds is accepted, trailing zeros past 12 decimals too.
    Response widest =
        given()
            .header("Authorization", ADMIN)
            .contentType(ContentType.JSON)
            .body("{\"limitUsd\":999999999999.999999999999000}")
            .put("/admin/budgets/team/team-widest");
    assertThat(widest.statusCode()).as(widest.asString()).isEqualTo(200);
    assertThat(widest.asString()).contains("999999999999.999999999999");
    given()
        .header("Authorization", ADMIN)
        .delete("/admin/budgets/team/team-widest")
        .then()
        .statusCode(204);

    JsonNode global = put("global", "*", "day", new BigDecimal("100"), false);
    assertThat(global.path("key").asText()).isEqualTo("*");
    assertThat(global.path("period").asText()).isEqualTo("day");
    assertThat(global.path("hard").asBoolean()).isFalse();
    put("team", "team-periods", "day", BigDecimal.ONE, true);
    put("team", "team-periods", "month", BigDecimal.TEN, true);
    // Two periods under one key: GET and DELETE must say which.
    given()
        .header("Authorization", ADMIN)
        .get("/admin/budgets/team/team-periods")
        .then()
        .statusCode(400)
        .contentType("application/problem+json");
    assertThat(budget("team", "team-periods", "month").path("limitUsd").decimalValue())
        .isEqualByComparingTo("10");
    Response days =
        given().header("Authorization", ADMIN).queryParam("period", "day").get("/admin/budgets");
    assertThat(days.jsonPath().getList("items.period", String.class)).containsOnly("day");
    assertThat(days.jsonPath().getList("items.key", String.class)).contains("*", "team-periods");
    given()
        .header("Authorization", ADMIN)
        .delete("/admin/budgets/team/team-periods?period=day")
        .then()
        .statusCode(204);
    // One left: the period may now be omitted.
    assertThat(
            given()
                .header("Authorization", ADMIN)
                .get("/admin/budgets/team/team-periods")
                .jsonPath()
                .getString("period"))
        .isEqualTo("month");
  }

  private long outboxed(String type) throws Exception {
    return count("select count(*) from pending_call_record where event_type = ?", type);
  }

  private long thresholdRows(UUID budgetId) throws Exception {
    return count("select count(*) from budget_threshold where budget_id = ?", budgetId);
  }

  private long count(String sql, Object arg) throws Exception {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setObject(1, arg);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }
}
