package dev.atelier.tracking;

import static dev.atelier.tracking.CallBuilder.call;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import com.fasterxml.jackson.databind.JsonNode;
import dev.atelier.contracts.LlmCallRecorded;
import dev.atelier.kit.amqp.EventPublisher;
import dev.atelier.tracking.repository.LatencySketch;
import dev.atelier.tracking.repository.LedgerPartitions;
import dev.atelier.tracking.service.PartitionMaintenance;
import dev.atelier.tracking.service.Retention;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Rollups kept equal to the raw rows, percentiles, and retention by dropping partitions. */
@QuarkusTest
class RollupRetentionTest {

  @Inject EventPublisher publisher;
  @Inject DataSource dataSource;
  @Inject MeterRegistry registry;
  @Inject PartitionMaintenance maintenance;
  @Inject Retention retention;

  private final Random random = new Random(42);
  private Ledger ledger;

  @BeforeEach
  void setUp() {
    ledger = new Ledger(publisher, dataSource, registry);
  }

  @Test
  void rollupsEqualTheRawRowsSumsAfterDuplicates() throws Exception {
    String team = "team-rollup-" + UUID.randomUUID();
    Instant start = Instant.now().truncatedTo(ChronoUnit.DAYS).minus(1, ChronoUnit.DAYS);
    List<UUID> workflows = List.of(UUID.randomUUID(), UUID.randomUUID());
    List<LlmCallRecorded> calls = new ArrayList<>();
    for (int i = 0; i < 120; i++) {
      String model = i % 3 == 0 ? "gpt-4o" : "llama-3.1-8b";
      CallBuilder b =
          call()
              .team(team)
              .workflow(i % 7 == 0 ? null : workflows.get(i % 2))
              .step("s" + (i % 4), i % 2 == 0 ? "architect" : "developer")
              .model(model, i % 11 == 0 ? null : model)
              .provider(i % 5 == 0 ? "openai" : "simulated")
              .at(start.plus(i * 23L, ChronoUnit.MINUTES).plusMillis(random.nextInt(60_000)))
              .tokens(random.nextInt(5000), random.nextInt(100), random.nextInt(2000), i % 3)
              .cost(
                  i % 9 == 0
                      ? null
                      : BigDecimal.valueOf(random.nextInt(1_000_000_000), 15).toPlainString())
              .latency(50 + random.nextInt(4000));
      if (i % 10 == 4) {
        b.error();
      }
      calls.add(b.build());
    }

    double before = ledger.duplicates();
    ledger.publish(calls);
    // Re-published records, some of them twice within one batch.
    List<LlmCallRecorded> again = new ArrayList<>(calls.subList(0, 30));
    again.addAll(calls.subList(10, 20));
    ledger.publish(again);
    ledger.awaitRows(calls.stream().map(LlmCallRecorded::eventId).toList());
    ledger.awaitDuplicates(before, again.size());
    assertThat(ledger.rows(calls.stream().map(LlmCallRecorded::eventId).toList()))
        .isEqualTo(calls.size());

    for (String grain : List.of("hour", "day")) {
      Map<String, Sums> expected = new HashMap<>();
      for (LlmCallRecorded c : calls) {
        String key = key(grain, c);
        expected.computeIfAbsent(key, k -> new Sums()).add(c);
      }
      assertThat(rollups(grain, team)).as(grain).isEqualTo(expected);
    }

    // The same report from the rollups and from the raw rows.
    String range = "&team=" + team + "&from=" + start + "&to=" + start.plus(3, ChronoUnit.DAYS);
    JsonNode raw = Ledger.getJson("/api/v1/usage?groupBy=model&percentiles=exact" + range);
    JsonNode rolled = Ledger.getJson("/api/v1/usage?groupBy=model&percentiles=false" + range);
    assertThat(raw.get("source").asText()).isEqualTo("raw");
    assertThat(rolled.get("source").asText()).isEqualTo("rollup-daily");
    assertThat(rolled.get("groups")).hasSize(raw.get("groups").size());
    for (int g = 0; g < raw.get("groups").size(); g++) {
      JsonNode r = raw.get("groups").get(g);
      JsonNode o = rolled.get("groups").get(g);
      assertThat(o.get("key")).isEqualTo(r.get("key"));
      for (String f :
          List.of(
              "calls",
              "errors",
              "inputTokens",
              "cachedInputTokens",
              "outputTokens",
              "reasoningTokens",
              "unknownCostCalls")) {
        assertThat(o.get(f).asLong()).as(f).isEqualTo(r.get(f).asLong());
      }
      assertThat(o.get("costUsd").decimalValue())
          .isEqualByComparingTo(r.get("costUsd").decimalValue());
      assertThat(o.get("latencyMsMean").asDouble())
          .isCloseTo(r.get("latencyMsMean").asDouble(), within(1e-6));
      assertThat(o.get("latencyMsP50").isNull()).isTrue();
    }
    // Per workflow: from the hourly rollup, which keeps the workflow.
    JsonNode byWorkflow =
        Ledger.getJson("/api/v1/usage?groupBy=workflow&percentiles=false" + range);
    assertThat(byWorkflow.get("source").asText()).isEqualTo("rollup-hourly");
    Map<String, Long> perWorkflow = new HashMap<>();
    calls.forEach(c -> perWorkflow.merge(String.valueOf(c.workflowId()), 1L, Long::sum));
    Map<String, Long> reported = new HashMap<>();
    byWorkflow
        .get("groups")
        .forEach(
            g ->
                reported.put(
                    g.get("key").isNull() ? "null" : g.get("key").asText(),
                    g.get("calls").asLong()));
    assertThat(reported).isEqualTo(perWorkflow);
    JsonNode hourly =
        Ledger.getJson(
            "/api/v1/usage?groupBy=hour&percentiles=false&team="
                + team
                + "&from="
                + start.plus(1, ChronoUnit.HOURS)
                + "&to="
                + start.plus(30, ChronoUnit.HOURS));
    assertThat(hourly.get("source").asText()).isEqualTo("rollup-hourly");
    long inRange =
        calls.stream()
            .filter(
                c ->
                    !c.occurredAt().isBefore(start.plus(1, ChronoUnit.HOURS))
                        && c.occurredAt().isBefore(start.plus(30, ChronoUnit.HOURS)))
            .count();
    long summed = 0;
    for (JsonNode g : hourly.get("groups")) {
      summed += g.get("calls").asLong();
    }
    assertThat(summed).isEqualTo(inRange);
    // A bound inside an hour cannot be answered exactly from a rollup.
    JsonNode unaligned =
        Ledger.getJson(
            "/api/v1/usage?groupBy=day&percentiles=false&team="
                + team
                + "&from="
                + start.plusSeconds(90)
                + "&to="
                + start.plus(3, ChronoUnit.DAYS));
    assertThat(unaligned.get("source").asText()).isEqualTo("raw");
  }

  @Test
  void aCallRoundedIntoTheNextDayIsRolledUpIntoTheDayItsRowHas() throws Exception {
    String team = "team-round-" + UUID.randomUUID();
    // Stored to the microsecond, this is the next day's (and month's) 00:00:00.
    LlmCallRecorded late =
        call().team(team).atExactly(Instant.parse("2026-11-30T23:59:59.9999998Z")).build();
    Instant stored = Instant.parse("2026-12-01T00:00:00Z");

    ledger.publish(late);
    ledger.awaitRows(List.of(late.eventId()));

    assertThat(Ledger.getJson("/api/v1/llm-calls/" + late.eventId()).get("occurredAt").asText())
        .isEqualTo(stored.toString());
    for (String grain : List.of("hour", "day")) {
      assertThat(rollups(grain, team).keySet())
          .as(grain)
          .singleElement()
          .satisfies(key -> assertThat(key).startsWith(stored + "|"));
    }
    // The rollup and the raw rows answer the same for the day the row is in.
    String range = "&team=" + team + "&from=" + stored + "&to=" + stored.plus(1, ChronoUnit.DAYS);
    JsonNode rolled = Ledger.getJson("/api/v1/usage?groupBy=model&percentiles=false" + range);
    JsonNode raw = Ledger.getJson("/api/v1/usage?groupBy=model&percentiles=exact" + range);
    assertThat(rolled.get("source").asText()).isEqualTo("rollup-daily");
    assertThat(rolled.get("groups").get(0).get("calls").asLong()).isEqualTo(1);
    assertThat(raw.get("groups").get(0).get("calls").asLong()).isEqualTo(1);
  }

  @Test
  void p99AndTimeToFirstTokenPercentilesMatchAnIndependentComputation() {
    String team = "team-pct-" + UUID.randomUUID();
    Instant now = Instant.now();
    List<LlmCallRecorded> calls = new ArrayList<>();
    for (int i = 0; i < 57; i++) {
      calls.add(
          call()
              .team(team)
              .at(now.minusSeconds(i))
              .latency(10 + random.nextInt(20_000))
              .ttft(i % 4 == 0 ? null : (long) (5 + random.nextInt(3000)))
              .build());
    }
    ledger.publish(calls);
    ledger.awaitRows(calls.stream().map(LlmCallRecorded::eventId).toList());

    JsonNode g =
        Ledger.getJson(
                "/api/v1/usage?groupBy=team&team="
                    + team
                    + "&from="
                    + now.minus(1, ChronoUnit.HOURS)
                    + "&to="
                    + now.plusSeconds(60))
            .get("groups")
            .get(0);
    List<Long> latencies = calls.stream().map(LlmCallRecorded::latencyMs).sorted().toList();
    List<Long> ttfts =
        calls.stream()
            .map(LlmCallRecorded::timeToFirstTokenMs)
            .filter(t -> t != null)
            .sorted()
            .toList();
    assertThat(g.get("latencyMsP99").asDouble())
        .isCloseTo(percentile(latencies, 0.99), within(1e-6));
    assertThat(g.get("latencyMsMean").asDouble())
        .isCloseTo(
            latencies.stream().mapToLong(Long::longValue).average().orElseThrow(), within(1e-6));
    assertThat(g.get("timeToFirstTokenMsP50").asDouble())
        .isCloseTo(percentile(ttfts, 0.5), within(1e-6));
    assertThat(g.get("timeToFirstTokenMsP95").asDouble())
        .isCloseTo(percentile(ttfts, 0.95), within(1e-6));
  }

  @Test
  void percentilesOverWholeDaysComeFromTheDailyHistogramsWithinTheirError() throws Exception {
    String team = "team-sketch-" + UUID.randomUUID();
    Instant start = Instant.now().truncatedTo(ChronoUnit.DAYS).minus(3, ChronoUnit.DAYS);
    List<LlmCallRecorded> calls = new ArrayList<>();
    for (int i = 0; i < 600; i++) {
      // Log-normal latencies around 800 ms (a real LLM's shape), two models over two days.
      long latency = i % 150 == 0 ? 0 : Math.round(Math.exp(6.7 + random.nextGaussian()));
      calls.add(
          call()
              .team(team)
              .model(i % 3 == 0 ? "gpt-4o" : "llama-3.1-8b", null)
              .at(start.plus(i * 4L, ChronoUnit.MINUTES).plusMillis(random.nextInt(60_000)))
              .latency(latency)
              .ttft(i % 4 == 0 ? null : (long) (5 + random.nextInt(3000)))
              .build());
    }
    // Three publishes, so the days' histograms are also merged in the database, not only in one
    // batch; the middle one repeats records (duplicates must not count twice).
    ledger.publish(calls.subList(0, 250));
    ledger.publish(calls.subList(200, 400));
    ledger.publish(calls.subList(400, 600));
    ledger.awaitRows(calls.stream().map(LlmCallRecorded::eventId).toList());
    String range = "&team=" + team + "&from=" + start + "&to=" + start.plus(3, ChronoUnit.DAYS);
    // The rollups are written in the raw rows' transaction: they are complete now.

    JsonNode approximate = Ledger.getJson("/api/v1/usage?groupBy=model" + range);
    assertThat(approximate.get("source").asText()).isEqualTo("rollup-daily");
    assertThat(approximate.get("percentiles").asText()).isEqualTo("approximate");
    JsonNode exact = Ledger.getJson("/api/v1/usage?groupBy=model&percentiles=exact" + range);
    assertThat(exact.get("source").asText()).isEqualTo("raw");
    assertThat(exact.get("percentiles").asText()).isEqualTo("exact");
    assertThat(approximate.get("groups")).hasSize(2);
    for (JsonNode g : approximate.get("groups")) {
      String model = g.get("key").asText();
      List<LlmCallRecorded> mine =
          calls.stream().filter(c -> c.requestModel().equals(model)).toList();
      List<Long> latencies = mine.stream().map(LlmCallRecorded::latencyMs).sorted().toList();
      List<Long> ttfts =
          mine.stream()
              .map(LlmCallRecorded::timeToFirstTokenMs)
              .filter(t -> t != null)
              .sorted()
              .toList();
      assertThat(g.get("calls").asLong()).isEqualTo(mine.size());
      assertWithinSketchError(g.get("latencyMsP50").asDouble(), latencies, 0.5);
      assertWithinSketchError(g.get("latencyMsP95").asDouble(), latencies, 0.95);
      assertWithinSketchError(g.get("latencyMsP99").asDouble(), latencies, 0.99);
      assertWithinSketchError(g.get("timeToFirstTokenMsP50").asDouble(), ttfts, 0.5);
      assertWithinSketchError(g.get("timeToFirstTokenMsP95").asDouble(), ttfts, 0.95);
      JsonNode e =
          StreamSupport.stream(exact.get("groups").spliterator(), false)
              .filter(x -> x.get("key").asText().equals(model))
              .findFirst()
              .orElseThrow();
      assertThat(e.get("latencyMsP95").asDouble())
          .isCloseTo(percentile(latencies, 0.95), within(1e-6));
    }
    // The histograms hold every call exactly once, merged across batches.
    long[] totals =
        longs(
            "select sum(calls), sum((select sum(x & 4294967295) from unnest(latency_hist) x)),"
                + " sum((select sum(x & 4294967295) from unnest(ttft_hist) x))"
                + " from llm_usage_daily where team = ?",
            team);
    assertThat(totals[0]).isEqualTo(calls.size());
    assertThat(totals[1]).isEqualTo(calls.size());
    assertThat(totals[2])
        .isEqualTo(calls.stream().filter(x -> x.timeToFirstTokenMs() != null).count());

    // A row written before the histograms existed (null) cannot give percentiles: the raw rows
    // answer, and a call added to that row leaves it without a histogram.
    OffsetDateTime day = OffsetDateTime.ofInstant(start, ZoneOffset.UTC);
    String row = " from llm_usage_daily where team = ? and model = 'gpt-4o' and bucket = ?";
    assertThat(
            longs(
                "with u as (update llm_usage_daily set latency_hist = null where team = ?"
                    + " and model = 'gpt-4o' and bucket = ? returning 1) select count(*) from u",
                team,
                day))
        .containsExactly(1);
    JsonNode fallback = Ledger.getJson("/api/v1/usage?groupBy=model" + range);
    assertThat(fallback.get("source").asText()).isEqualTo("raw");
    assertThat(fallback.get("percentiles").asText()).isEqualTo("exact");
    LlmCallRecorded late =
        call().team(team).model("gpt-4o", null).at(start.plusSeconds(30)).latency(5).build();
    ledger.publish(List.of(late));
    ledger.awaitRows(List.of(late.eventId()));
    // One row for the key, still without a histogram.
    assertThat(
            longs("select count(*) filter (where latency_hist is null), count(*)" + row, team, day))
        .containsExactly(1, 1);
    // The operators' backfill fills the row from the raw rows (both batches' calls), and the
    // rollup answers again.
    runBackfill();
    JsonNode filled = Ledger.getJson("/api/v1/usage?groupBy=model" + range);
    assertThat(filled.get("source").asText()).isEqualTo("rollup-daily");
    assertThat(filled.get("percentiles").asText()).isEqualTo("approximate");
    long[] filledRow =
        longs(
            "select calls, (select sum(x & 4294967295) from unnest(latency_hist) x)" + row,
            team,
            day);
    assertThat(filledRow[1]).isEqualTo(filledRow[0]);
    // Without percentiles the rollup still answers.
    assertThat(
            Ledger.getJson("/api/v1/usage?groupBy=model&percentiles=false" + range)
                .get("percentiles")
                .asText())
        .isEqualTo("none");
  }

  /** The first row of a query whose columns are all integers. */
  private long[] longs(String sql, Object... params) throws Exception {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      for (int i = 0; i < params.length; i++) {
        ps.setObject(i + 1, params[i]);
      }
      try (ResultSet rs = ps.executeQuery()) {
        assertThat(rs.next()).as(sql).isTrue();
        long[] row = new long[rs.getMetaData().getColumnCount()];
        for (int i = 0; i < row.length; i++) {
          row[i] = rs.getLong(i + 1);
        }
        return row;
      }
    }
  }

  /**
   * Runs tracking-service/ops/backfill-daily-histograms.sql as an operator would (minus psql's
   * meta-commands).
   */
  private void runBackfill() throws Exception {
    String script =
        Files.readAllLines(Path.of("ops/backfill-daily-histograms.sql")).stream()
            .filter(line -> !line.startsWith("\\"))
            .collect(Collectors.joining("\n"));
    try (Connection c = dataSource.getConnection();
        Statement st = c.createStatement()) {
      st.execute(script);
    }
  }

  /** Within the histogram's relative error of the value at rank floor(q * (n - 1)). */
  private static void assertWithinSketchError(double reported, List<Long> sorted, double q) {
    double exact = percentile(sorted, q);
    assertThat(Math.abs(reported - exact))
        .as("q=%s: reported %s, exact %s", q, reported, exact)
        .isLessThanOrEqualTo(exact * LatencySketch.RELATIVE_ERROR + 1e-9);
  }

  @Test
  void badPercentilesFlagIsAProblem() {
    given()
        .get("/api/v1/usage?groupBy=day&percentiles=maybe")
        .then()
        .statusCode(400)
        .contentType("application/problem+json")
        .body("detail", containsString("percentiles must be true, false or exact"));
  }

  @Test
  void aReportReachingPastRetentionIsAnsweredFromTheRollupsOrRefusedNeverFromMissingRows() {
    // Retention keeps 400 days of raw calls; the rollups keep everything.
    Instant to = Instant.now().truncatedTo(ChronoUnit.DAYS);
    Instant from = to.minus(Duration.ofDays(500));
    given()
        .queryParam("groupBy", "team")
        .queryParam("from", from.toString())
        .queryParam("to", to.toString())
        .get("/api/v1/usage")
        .then()
        .statusCode(200)
        .body("source", equalTo("rollup-daily"));
    // Not whole hours, or exact percentiles: only the raw rows could answer, and they are gone.
    for (String q :
        List.of(
            "from=" + from.plusSeconds(420) + "&to=" + to,
            "from=" + from + "&to=" + to + "&percentiles=exact")) {
      given()
          .get("/api/v1/usage?groupBy=team&" + q)
          .then()
          .statusCode(400)
          .contentType("application/problem+json")
          .body("type", containsString("range-before-retention"))
          .body("detail", containsString("whole hours"));
    }
    // Within retention the raw rows answer any range.
    given()
        .get("/api/v1/usage?groupBy=team&from=" + to.minus(Duration.ofDays(3)).plusSeconds(420))
        .then()
        .statusCode(200)
        .body("source", equalTo("raw"));
  }

  @Test
  void aWorkflowWhoseRawCallsRetentionDroppedIsSummedFromTheHourlyRollup() throws Exception {
    UUID workflowId = UUID.randomUUID();
    Instant at = Instant.now().truncatedTo(ChronoUnit.HOURS);
    List<LlmCallRecorded> calls =
        List.of(
            call().workflow(workflowId).step("s1", "architect").at(at.plusSeconds(60)).build(),
            call().workflow(workflowId).step("s2", "developer").at(at.plusSeconds(120)).build(),
            call().workflow(workflowId).step("s3", "developer").at(at.plusSeconds(180)).build());
    ledger.publish(calls);
    ledger.awaitRows(calls.stream().map(LlmCallRecorded::eventId).toList());
    given()
        .get("/api/v1/workflows/{id}/usage", workflowId)
        .then()
        .statusCode(200)
        .body("source", equalTo("raw"))
        .body("byStep.size()", equalTo(3));

    // As retention does to old partitions: the raw rows of two calls go, their rollups stay.
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement("delete from llm_call where event_id = ?")) {
      for (LlmCallRecorded dropped : calls.subList(0, 2)) {
        ps.setObject(1, dropped.eventId());
        assertThat(ps.executeUpdate()).isEqualTo(1);
      }
    }

    JsonNode usage = Ledger.getJson("/api/v1/workflows/" + workflowId + "/usage");
    assertThat(usage.get("source").asText()).isEqualTo("rollup-hourly");
    assertThat(usage.get("totals").get("calls").asLong()).isEqualTo(3);
    assertThat(usage.get("byStep")).isEmpty();
    Map<String, Long> byAgent = new HashMap<>();
    usage
        .get("byAgent")
        .forEach(a -> byAgent.put(a.get("agent").asText(), a.get("calls").asLong()));
    assertThat(byAgent)
        .containsExactlyInAnyOrderEntriesOf(Map.of("architect", 1L, "developer", 2L));
  }

  @Test
  void retentionDropsWholeOldPartitionsWhileIngestRuns() throws Exception {
    YearMonth expired = YearMonth.of(1980, 1);
    YearMonth kept = YearMonth.of(1980, 2);
    maintenance.ensure(expired);
    maintenance.ensure(kept);
    LlmCallRecorded old = call().at(Instant.parse("1980-01-31T23:59:59Z")).build();
    LlmCallRecorded younger = call().at(Instant.parse("1980-02-01T00:00:00Z")).build();
    // No partition for this month: it sits in the default partition, and goes too.
    LlmCallRecorded stray = call().at(Instant.parse("1979-06-15T12:00:00Z")).build();
    ledger.publish(List.of(old, younger, stray));
    ledger.awaitRows(List.of(old.eventId(), younger.eventId(), stray.eventId()));

    // Ingest keeps going while the partition is dropped.
    List<LlmCallRecorded> live = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      live.add(call().team("team-retention").build());
    }
    CompletableFuture<Void> ingest =
        CompletableFuture.runAsync(
            () -> {
              for (int i = 0; i < live.size(); i += 20) {
                ledger.publish(live.subList(i, i + 20));
              }
            });
    List<YearMonth> dropped = retention.dropOlderThan(Instant.parse("1980-02-01T00:00:00Z"));
    ingest.join();

    assertThat(dropped).containsExactly(expired);
    assertThat(partitionExists(LedgerPartitions.name(expired))).isFalse();
    assertThat(partitionExists(LedgerPartitions.name(kept))).isTrue();
    assertThat(ledger.rows(List.of(old.eventId(), stray.eventId()))).isZero();
    assertThat(ledger.rows(List.of(younger.eventId()))).isEqualTo(1);
    ledger.awaitRows(live.stream().map(LlmCallRecorded::eventId).toList());
    // Nothing left to drop the second time.
    assertThat(retention.dropOlderThan(Instant.parse("1980-02-01T00:00:00Z"))).isEmpty();
  }

  private static double percentile(List<Long> sorted, double p) {
    double position = p * (sorted.size() - 1);
    int lower = (int) Math.floor(position);
    int upper = (int) Math.ceil(position);
    double low = sorted.get(lower);
    return low + (sorted.get(upper) - low) * (position - lower);
  }

  private static String key(String grain, LlmCallRecorded c) {
    Instant bucket =
        c.occurredAt().truncatedTo(grain.equals("hour") ? ChronoUnit.HOURS : ChronoUnit.DAYS);
    // The daily rollup is not kept per workflow.
    return bucket
        + "|"
        + (grain.equals("hour") ? c.workflowId() : null)
        + "|"
        + c.agent()
        + "|"
        + c.provider()
        + "|"
        + (c.responseModel() != null ? c.responseModel() : c.requestModel());
  }

  /** A rollup table's rows of one team, keyed like {@link #key}. */
  private Map<String, Sums> rollups(String grain, String team) throws Exception {
    String table = grain.equals("hour") ? "llm_usage_hourly" : "llm_usage_daily";
    Map<String, Sums> rows = new HashMap<>();
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "select bucket, workflow_id, agent, provider, model, calls, errors, input_tokens,"
                    + " cached_input_tokens, output_tokens, reasoning_tokens, cost_usd,"
                    + " unknown_cost_calls, latency_ms_sum from "
                    + table
                    + " where team = ?")) {
      ps.setString(1, team);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          Sums s = new Sums();
          s.calls = rs.getLong("calls");
          s.errors = rs.getLong("errors");
          s.input = rs.getLong("input_tokens");
          s.cached = rs.getLong("cached_input_tokens");
          s.output = rs.getLong("output_tokens");
          s.reasoning = rs.getLong("reasoning_tokens");
          BigDecimal cost = rs.getBigDecimal("cost_usd");
          s.cost = cost == null ? null : cost.stripTrailingZeros();
          s.unknownCost = rs.getLong("unknown_cost_calls");
          s.latency = rs.getLong("latency_ms_sum");
          String key =
              rs.getObject("bucket", java.time.OffsetDateTime.class).toInstant()
                  + "|"
                  + rs.getObject("workflow_id", UUID.class)
                  + "|"
                  + rs.getString("agent")
                  + "|"
                  + rs.getString("provider")
                  + "|"
                  + rs.getString("model");
          assertThat(rows.put(key, s)).as("one row per key: " + key).isNull();
        }
      }
    }
    return rows;
  }

  private boolean partitionExists(String name) throws Exception {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement("select to_regclass(?) is not null")) {
      ps.setString(1, name);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getBoolean(1);
      }
    }
  }

  /** Sums computed here from the records sent; equal when every field is. */
  private static final class Sums {
    long calls;
    long errors;
    long input;
    long cached;
    long output;
    long reasoning;
    BigDecimal cost;
    long unknownCost;
    long latency;

    void add(LlmCallRecorded c) {
      calls++;
      errors += c.status().equals(LlmCallRecorded.STATUS_ERROR) ? 1 : 0;
      input += c.inputTokens();
      cached += c.cachedInputTokens();
      output += c.outputTokens();
      reasoning += c.reasoningTokens();
      if (c.costUsd() == null) {
        unknownCost++;
      } else {
        cost = (cost == null ? c.costUsd() : cost.add(c.costUsd())).stripTrailingZeros();
      }
      latency += c.latencyMs();
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Sums s
          && calls == s.calls
          && errors == s.errors
          && input == s.input
          && cached == s.cached
          && output == s.output
          && reasoning == s.reasoning
          && java.util.Objects.equals(cost, s.cost)
          && unknownCost == s.unknownCost
          && latency == s.latency;
    }

    @Override
    public int hashCode() {
      return Long.hashCode(calls);
    }

    @Override
    public String toString() {
      return calls
          + " calls, "
          + errors
          + " errors, in "
          + input
          + ", cached "
          + cached
          + ", out "
          + output
          + ", reasoning "
          + reasoning
          + ", cost "
          + cost
          + ", unknown "
          + unknownCost
          + ", latency "
          + latency;
    }
  }
}
