package dev.atelier.tracking;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.startsWith;

import com.fasterxml.jackson.databind.JsonNode;
import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import dev.atelier.contracts.BudgetThresholdCrossed;
import dev.atelier.contracts.EventCodec;
import dev.atelier.contracts.Topology;
import dev.atelier.kit.amqp.EventPublisher;
import dev.atelier.kit.amqp.RabbitBroker;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

/** Budget threshold crossings through the real broker: once per event, dead letters, paging. */
@QuarkusTest
class BudgetEventTest {

  private static final String DEAD_LETTERS = Topology.TRACKING_BUDGET_EVENTS.deadLetterQueue();

  @Inject EventPublisher publisher;
  @Inject RabbitBroker broker;
  @Inject DataSource dataSource;
  @Inject MeterRegistry registry;

  private DeadLetters deadLetters;

  private DeadLetters deadLetters() {
    if (deadLetters == null) {
      deadLetters = new DeadLetters(broker, DEAD_LETTERS);
    }
    return deadLetters;
  }

  @Test
  void aCrossingIsStoredOnceAndListedWithEveryField() {
    String team = "team-budget-" + UUID.randomUUID();
    Instant periodStart = Instant.parse("2026-12-01T00:00:00Z");
    BudgetThresholdCrossed crossing =
        crossing("team", team, null, periodStart, 80, "100", "80.000000001", true);

    publish(crossing);
    awaitStored(crossing.eventId());
    double before = duplicates();
    publish(crossing);
    publish(crossing);
    await().atMost(Ledger.PATIENCE).until(() -> duplicates() >= before + 2);
    assertThat(rows(crossing.eventId())).isEqualTo(1);

    JsonNode page = Ledger.getJson("/api/v1/budget-events?scope=team&key=" + team);
    assertThat(page.get("items")).hasSize(1);
    JsonNode e = page.get("items").get(0);
    assertThat(e.get("id").asText()).isEqualTo(crossing.eventId().toString());
    assertThat(e.get("budgetId").asText()).isEqualTo(crossing.budgetId().toString());
    assertThat(e.get("scope").asText()).isEqualTo("team");
    assertThat(e.get("key").asText()).isEqualTo(team);
    assertThat(e.get("period").asText()).isEqualTo("month");
    assertThat(Instant.parse(e.get("periodStart").asText())).isEqualTo(periodStart);
    assertThat(Instant.parse(e.get("occurredAt").asText())).isEqualTo(crossing.occurredAt());
    assertThat(e.get("thresholdPercent").asInt()).isEqualTo(80);
    assertThat(e.get("limitUsd").decimalValue()).isEqualByComparingTo("100");
    assertThat(e.get("spentUsd").toString()).isEqualTo("80.000000001");
    assertThat(e.get("hard").asBoolean()).isTrue();
    assertThat(e.get("workflowId").isNull()).isTrue();
    assertThat(page.get("nextCursor").isNull()).isTrue();
  }

  @Test
  void filtersByWorkflowAndTimeAndPagesNewestFirst() {
    UUID workflowId = UUID.randomUUID();
    Instant t0 = Instant.parse("2026-11-03T10:00:00Z");
    List<BudgetThresholdCrossed> sent = new ArrayList<>();
    int[] thresholds = {50, 80, 100};
    for (int i = 0; i < 3; i++) {
      BudgetThresholdCrossed c =
          crossing(
              "workflow",
              workflowId.toString(),
              workflowId,
              t0,
              thresholds[i],
              "2",
              String.valueOf(thresholds[i] / 50.0),
              false);
      sent.add(withTime(c, t0.plusSeconds(60L * i)));
    }
    sent.forEach(this::publish);
    sent.forEach(c -> awaitStored(c.eventId()));

    String base = "/api/v1/budget-events?workflowId=" + workflowId;
    JsonNode first = Ledger.getJson(base + "&limit=2");
    assertThat(first.get("items")).hasSize(2);
    assertThat(first.get("items").get(0).get("thresholdPercent").asInt()).isEqualTo(100);
    assertThat(first.get("items").get(1).get("thresholdPercent").asInt()).isEqualTo(80);
    String cursor = first.get("nextCursor").asText();
    JsonNode second = Ledger.getJson(base + "&limit=2&cursor=" + cursor);
    assertThat(second.get("items")).hasSize(1);
    assertThat(second.get("items").get(0).get("thresholdPercent").asInt()).isEqualTo(50);
    assertThat(second.get("nextCursor").isNull()).isTrue();

    JsonNode ranged =
        Ledger.getJson(base + "&from=" + t0.plusSeconds(60) + "&to=" + t0.plusSeconds(120));
    assertThat(ranged.get("items")).hasSize(1);
    assertThat(ranged.get("items").get(0).get("thresholdPercent").asInt()).isEqualTo(80);
    JsonNode otherScope = Ledger.getJson(base + "&scope=team");
    assertThat(otherScope.get("items")).isEmpty();
  }

  @Test
  void badParametersAreProblemsNamingTheParameter() {
    for (String query :
        List.of(
            "scope=planet",
            "workflowId=nope",
            "from=yesterday",
            "from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z",
            "limit=0",
            "limit=100000",
            "cursor=%%%")) {
      given()
          .get("/api/v1/budget-events?" + query)
          .then()
          .statusCode(400)
          .contentType(startsWith("application/problem+json"))
          .body("status", org.hamcrest.Matchers.equalTo(400))
          .body("detail", org.hamcrest.Matchers.notNullValue());
    }
    given()
        .get("/api/v1/budget-events?scope=planet")
        .then()
        .body("detail", containsString("scope"));
    given().get("/q/openapi").then().statusCode(200).body(containsString("/api/v1/budget-events"));
  }

  @Test
  void garbageAndInvalidCrossingsAreDeadLetteredWithTheReason() throws Exception {
    byte[] garbage = ("{not json " + UUID.randomUUID()).getBytes(StandardCharsets.UTF_8);
    BudgetThresholdCrossed invalid =
        crossing("team", "t", null, Instant.parse("2026-12-01T00:00:00Z"), 80, "10", "-1", false);
    BudgetThresholdCrossed after =
        crossing(
            "global", "*", null, Instant.parse("2026-12-02T00:00:00Z"), 50, "1000", "500", true);
    try (Channel raw = broker.connection().createChannel()) {
      raw.basicPublish(
          Topology.BUDGET_EVENTS_EXCHANGE,
          Topology.budgetRoutingKey("team", 80),
          new AMQP.BasicProperties.Builder().contentType("application/json").build(),
          garbage);
    }
    // Both valid JSON, but the database would refuse them on every redelivery.
    BudgetThresholdCrossed nulKey =
        crossing(
            "team", "t\u0000x", null, Instant.parse("2026-12-01T00:00:00Z"), 80, "10", "9", false);
    BudgetThresholdCrossed farFuture =
        crossing("team", "t", null, Instant.parse("+300000-01-01T00:00:00Z"), 80, "10", "9", false);
    publish(invalid);
    publish(nulKey);
    publish(farFuture);
    publish(after);

    awaitStored(after.eventId());
    assertThat(deadLetters().awaitReason(EventCodec.write(nulKey)))
        .isEqualTo("scopeKey must be at most 256 characters, without NUL");
    assertThat(deadLetters().awaitReason(EventCodec.write(farFuture)))
        .contains("periodStart must lie between");
    assertThat(rows(nulKey.eventId()) + rows(farFuture.eventId())).isZero();
    assertThat(deadLetters().awaitReason(garbage)).contains("not JSON");
    assertThat(deadLetters().awaitReason(EventCodec.write(invalid))).contains("spentUsd");
    assertThat(rows(invalid.eventId())).isZero();
  }

  private static BudgetThresholdCrossed crossing(
      String scope,
      String key,
      UUID workflowId,
      Instant periodStart,
      int percent,
      String limit,
      String spent,
      boolean hard) {
    UUID budgetId = UUID.randomUUID();
    return new BudgetThresholdCrossed(
        BudgetThresholdCrossed.eventIdFor(budgetId, periodStart, percent),
        BudgetThresholdCrossed.TYPE,
        Instant.now().truncatedTo(ChronoUnit.MICROS),
        workflowId,
        budgetId,
        scope,
        key,
        workflowId != null ? "total" : "month",
        periodStart,
        percent,
        new BigDecimal(limit),
        new BigDecimal(spent),
        hard);
  }

  private static BudgetThresholdCrossed withTime(BudgetThresholdCrossed c, Instant at) {
    return new BudgetThresholdCrossed(
        c.eventId(),
        c.type(),
        at,
        c.workflowId(),
        c.budgetId(),
        c.scope(),
        c.scopeKey(),
        c.period(),
        c.periodStart(),
        c.thresholdPercent(),
        c.limitUsd(),
        c.spentUsd(),
        c.hard());
  }

  private void publish(BudgetThresholdCrossed c) {
    publisher.publish(
        Topology.BUDGET_EVENTS_EXCHANGE,
        Topology.budgetRoutingKey(c.scope(), c.thresholdPercent()),
        c);
  }

  private long rows(UUID id) {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement("select count(*) from budget_event where event_id = ?")) {
      ps.setObject(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private void awaitStored(UUID id) {
    await().atMost(Ledger.PATIENCE).until(() -> rows(id) == 1);
  }

  private double duplicates() {
    var counter =
        registry.find("atelier.tracking.budget.events").tag("outcome", "duplicate").counter();
    return counter == null ? 0 : counter.count();
  }
}
