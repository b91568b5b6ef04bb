package dev.atelier.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.GetResponse;
import dev.atelier.contracts.EventCodec;
import dev.atelier.contracts.Headers;
import dev.atelier.contracts.LlmCallRecorded;
import dev.atelier.contracts.Topology;
import java.io.IOException;
import java.math.BigDecimal;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The point of the record journal: a gateway process answers calls while its broker connection
 * confirms nothing (a proxy that stopped forwarding), is killed with SIGKILL right after the last
 * answer, and once restarted on the same journal directory against the real broker every one of
 * those calls reaches the ledger exchange, each exactly once. Without the journal the records were
 * in memory waiting for a confirm and died with the process.
 */
class RecordJournalKillIT {

  static final String KEY = "Bearer atelier-local-key";
  static final String VHOST = "atelier-test-gateway";
  static final String TEST_QUEUE = "atelier.test.gateway.journal-kill.llm-calls";
  static final int CALLS = 20;
  static final HttpClient HTTP = GatewayProcess.HTTP;

  final List<Process> processes = new ArrayList<>();
  Connection rabbit;
  StalledBrokerProxy proxy;
  Path journalDir;

  @BeforeEach
  void setUp() throws Exception {
    ConnectionFactory factory = new ConnectionFactory();
    factory.setHost("127.0.0.1");
    factory.setVirtualHost(VHOST);
    rabbit = factory.newConnection("record-journal-kill-it");
    try (Channel ch = rabbit.createChannel()) {
      ch.exchangeDeclare(Topology.LLM_CALLS_EXCHANGE, "topic", true);
      ch.queueDeclare(TEST_QUEUE, true, false, false, Map.of("x-queue-type", "quorum"));
      ch.queueBind(TEST_QUEUE, Topology.LLM_CALLS_EXCHANGE, Topology.LLM_CALL);
      ch.queuePurge(TEST_QUEUE);
    }
    proxy = new StalledBrokerProxy("127.0.0.1", 5672);
    journalDir = Path.of("target", "record-journal-kill-it").toAbsolutePath();
    deleteTree(journalDir);
    Runtime.getRuntime()
        .addShutdownHook(new Thread(() -> processes.forEach(Process::destroyForcibly)));
  }

  @AfterEach
  void tearDown() throws Exception {
    for (Process p : processes) {
      p.destroy();
      if (!p.waitFor(20, TimeUnit.SECONDS)) {
        p.destroyForcibly();
      }
    }
    proxy.close();
    try (Channel ch = rabbit.createChannel()) {
      ch.queueDelete(TEST_QUEUE);
    }
    rabbit.close();
  }

  @Test
  void recordsOfAnsweredCallsSurviveAKillWhileTheBrokerConfirmsNothing() throws Exception {
    UUID workflowId = UUID.randomUUID();
    GatewayProcess first = start("first", proxy.port());
    first.awaitReady();

    // A second process on the same journal directory refuses to start, saying why.
    GatewayProcess second = start("second", proxy.port());
    await("the second process exits")
        .atMost(Duration.ofSeconds(180))
        .until(() -> !second.process().isAlive());
    assertThat(second.process().exitValue()).isNotZero();
    assertThat(Files.readString(second.log()))
        .contains("is in use by another gateway process")
        .contains("GATEWAY_RECORDS_JOURNAL_DIR");

    // Through the proxy, records are confirmed: the warm-up call's record arrives.
    UUID warmUp = call(first, workflowId);
    Map<UUID, Integer> seen = new HashMap<>();
    await("the warm-up record")
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> {
              drain(workflowId, seen);
              assertThat(seen).containsKey(warmUp);
            });

    proxy.stall();
    List<UUID> answered = new ArrayList<>();
    for (int i = 0; i < CALLS; i++) {
      answered.add(call(first, workflowId));
    }
    first.process().destroyForcibly(); // SIGKILL, right after the last answer
    assertThat(first.process().waitFor(20, TimeUnit.SECONDS)).isTrue();
    drain(workflowId, seen);
    assertThat(seen.keySet())
        .as("nothing got past the stalled proxy")
        .doesNotContainAnyElementsOf(answered);

    GatewayProcess restarted = start("restarted", 5672);
    await("the restarted gateway ready").atMost(Duration.ofSeconds(180)).until(restarted::ready);
    await("all answered calls in the ledger")
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(
            () -> {
              drain(workflowId, seen);
              assertThat(seen.keySet()).containsAll(answered);
            });
    // The journal's backlog is confirmed, and nothing came twice (the warm-up record, confirmed
    // before the kill, was not re-published either).
    await("journal backlog confirmed")
        .atMost(Duration.ofSeconds(30))
        .until(() -> restarted.metric("atelier_llm_records_unconfirmed") == 0.0);
    drain(workflowId, seen);
    assertThat(seen).hasSize(CALLS + 1);
    assertThat(seen.values()).containsOnly(1);
    assertThat(Files.readString(restarted.log())).contains("publishing them again");
  }

  @Test
  void budgetSettlementsLostInTheKillAreMadeFromTheJournalOnRestart() throws Exception {
    UUID workflowId = UUID.randomUUID();
    GatewayProcess first = start("first", proxy.port());
    first.awaitReady();
    proxy.stall();
    List<UUID> answered = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      answered.add(call(first, workflowId, "5"));
    }
    first.process().destroyForcibly();
    assertThat(first.process().waitFor(20, TimeUnit.SECONDS)).isTrue();

    // As if the kill had come between journaling each record and settling its reservation: the
    // reservations are back, and nothing spent. Expired, they would be charged 0.5 USD each.
    BigDecimal reserved = new BigDecimal("0.5");
    try (java.sql.Connection db = gatewayDb()) {
      // (The kill may have beaten the last settlement for real: its reservation is replaced.)
      try (var ps = db.prepareStatement("delete from budget_reservation where call_id = ?")) {
        for (UUID call : answered) {
          ps.setObject(1, call);
          ps.executeUpdate();
        }
      }
      try (var ps =
          db.prepareStatement(
              "update budget_spend s set spent_usd = 0, reserved_usd = ? from budget b"
                  + " where b.id = s.budget_id and b.scope = 'workflow' and b.scope_key = ?")) {
        ps.setBigDecimal(1, reserved.multiply(BigDecimal.valueOf(answered.size())));
        ps.setString(2, workflowId.toString());
        assertThat(ps.executeUpdate()).isEqualTo(1);
      }
      try (var ps =
          db.prepareStatement(
              "insert into budget_reservation (call_id, budget_id, period_start, amount_usd,"
                  + " expires_at) select ?, b.id, timestamptz '1970-01-01 00:00:00+00', ?,"
                  + " now() + interval '1 hour' from budget b"
                  + " where b.scope = 'workflow' and b.scope_key = ?")) {
        for (UUID call : answered) {
          ps.setObject(1, call);
          ps.setBigDecimal(2, reserved);
          ps.setString(3, workflowId.toString());
          assertThat(ps.executeUpdate()).isEqualTo(1);
        }
      }
    }

    GatewayProcess restarted = start("restarted", 5672);
    await("the restarted gateway ready").atMost(Duration.ofSeconds(180)).until(restarted::ready);
    Map<UUID, LlmCallRecorded> records = new HashMap<>();
    await("the records published")
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(
            () -> {
              collect(workflowId, records);
              assertThat(records.keySet()).containsAll(answered);
            });
    BigDecimal cost =
        answered.stream()
            .map(id -> records.get(id).costUsd())
            .reduce(BigDecimal.ZERO, BigDecimal::add);
    assertThat(cost).isPositive();
    // Settled with each record's cost: nothing reserved, nothing charged at the worst case.
    await("the settlements")
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> {
              try (java.sql.Connection db = gatewayDb();
                  var ps =
                      db.prepareStatement(
                          "select s.spent_usd, s.reserved_usd from budget_spend s join budget b"
                              + " on b.id = s.budget_id"
                              + " where b.scope = 'workflow' and b.scope_key = ?")) {
                ps.setString(1, workflowId.toString());
                try (var rs = ps.executeQuery()) {
                  assertThat(rs.next()).isTrue();
                  assertThat(rs.getBigDecimal(1)).isEqualByComparingTo(cost);
                  assertThat(rs.getBigDecimal(2)).isEqualByComparingTo(BigDecimal.ZERO);
                }
              }
            });
  }

  /**
   * A gateway killed while a provider has a call: the provider bills it, so the next start records
   * it, as interrupted with its prompt, and settles its reservation at that cost. Without the mark
   * the call was never recorded and its reservation expired at the worst case.
   */
  @Test
  void aCallAtTheProviderWhenTheGatewayIsKilledIsRecordedAsInterruptedAtTheNextStart()
      throws Exception {
    UUID workflowId = UUID.randomUUID();
    GatewayProcess first =
        start(
            "first",
            5672,
            "-Dgateway.simulated.latency.mode=fixed",
            "-Dgateway.simulated.latency.fixed=600s");
    first.awaitReady();
    var pending =
        HTTP.sendAsync(
            chatRequest(first, workflowId, "5").timeout(Duration.ofSeconds(600)).build(),
            HttpResponse.BodyHandlers.ofString());
    await("the call at the provider")
        .atMost(Duration.ofSeconds(30))
        .until(() -> first.metric("atelier_llm_calls_in_flight") == 1.0);
    first.process().destroyForcibly();
    assertThat(first.process().waitFor(20, TimeUnit.SECONDS)).isTrue();
    assertThat(pending.handle((r, t) -> t)).succeedsWithin(Duration.ofSeconds(10)).isNotNull();

    GatewayProcess restarted = start("restarted", 5672);
    await("the restarted gateway ready").atMost(Duration.ofSeconds(180)).until(restarted::ready);
    Map<UUID, LlmCallRecorded> records = new HashMap<>();
    await("the interrupted call's record")
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(
            () -> {
              collect(workflowId, records);
              assertThat(records).hasSize(1);
            });
    LlmCallRecorded r = records.values().iterator().next();
    assertThat(r.status()).isEqualTo(LlmCallRecorded.STATUS_ERROR);
    assertThat(r.errorCode()).isEqualTo("gateway_interrupted");
    assertThat(r.usageSource()).isEqualTo(LlmCallRecorded.USAGE_ESTIMATED);
    // The prompt as counted for the reservation: what the simulated provider reports for it.
    UUID reference = UUID.randomUUID();
    call(restarted, reference);
    Map<UUID, LlmCallRecorded> answered = new HashMap<>();
    await("a reference call's record")
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> {
              collect(reference, answered);
              assertThat(answered).hasSize(1);
            });
    assertThat(r.inputTokens())
        .isEqualTo(answered.values().iterator().next().inputTokens())
        .isPositive();
    assertThat(r.outputTokens()).isZero();
    assertThat(r.costUsd()).isPositive();
    assertThat(r.team()).isNotBlank();
    assertThat(r.traceId()).isNotBlank();
    assertThat(Files.readString(restarted.log())).contains("recording them as gateway_interrupted");
    assertThat(restarted.metric("atelier_llm_calls_in_flight")).isZero();
    await("the reservation settled at the record's cost")
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () ->
                assertThat(workflowSpend(workflowId))
                    .containsExactly(r.costUsd().stripTrailingZeros(), BigDecimal.ZERO));

    // Recorded once: a second restart finds nothing left in flight.
    restarted.process().destroy();
    assertThat(restarted.process().waitFor(30, TimeUnit.SECONDS)).isTrue();
    GatewayProcess again = start("again", 5672);
    await("the gateway ready again").atMost(Duration.ofSeconds(180)).until(again::ready);
    assertThat(Files.readString(again.log())).doesNotContain("recording them as");
  }

  /** The workflow budget's spent and reserved USD, scaled alike for comparison. */
  private static List<BigDecimal> workflowSpend(UUID workflowId) throws java.sql.SQLException {
    try (java.sql.Connection db = gatewayDb();
        var ps =
            db.prepareStatement(
                "select s.spent_usd, s.reserved_usd from budget_spend s join budget b"
                    + " on b.id = s.budget_id where b.scope = 'workflow' and b.scope_key = ?")) {
      ps.setString(1, workflowId.toString());
      try (var rs = ps.executeQuery()) {
        assertThat(rs.next()).isTrue();
        return List.of(
            rs.getBigDecimal(1).stripTrailingZeros(), rs.getBigDecimal(2).stripTrailingZeros());
      }
    }
  }

  private static java.sql.Connection gatewayDb() throws java.sql.SQLException {
    return java.sql.DriverManager.getConnection(
        "jdbc:postgresql://127.0.0.1:5432/atelier_gateway_test", "postgres", "");
  }

  private void collect(UUID workflowId, Map<UUID, LlmCallRecorded> into) throws IOException {
    take(workflowId, r -> into.put(r.eventId(), r));
  }

  private GatewayProcess start(String name, int rabbitPort, String... more) throws IOException {
    List<String> settings =
        new ArrayList<>(
            List.of(
                "-Drabbitmq.port=" + rabbitPort,
                // Longer than the test: a publish to the stalled proxy stays unconfirmed until the
                // kill (no fallback to the database spool in between).
                "-Drabbitmq.confirm-timeout=300s",
                "-Dgateway.records.journal.dir=" + journalDir));
    settings.addAll(List.of(more));
    GatewayProcess g = GatewayProcess.start(name, "record-journal-kill-" + name, settings);
    processes.add(g.process());
    return g;
  }

  private static UUID call(GatewayProcess g, UUID workflowId) throws Exception {
    return call(g, workflowId, null);
  }

  /** A call of the workflow, declaring its budget when {@code budgetUsd} is given. */
  private static UUID call(GatewayProcess g, UUID workflowId, String budgetUsd) throws Exception {
    HttpResponse<String> res =
        HTTP.send(
            chatRequest(g, workflowId, budgetUsd).timeout(Duration.ofSeconds(30)).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(res.statusCode()).as(res.body()).isEqualTo(200);
    return UUID.fromString(res.headers().firstValue("X-Atelier-Call-Id").orElseThrow());
  }

  private static HttpRequest.Builder chatRequest(
      GatewayProcess g, UUID workflowId, String budgetUsd) {
    HttpRequest.Builder request = HttpRequest.newBuilder(g.base().resolve("/v1/chat/completions"));
    if (budgetUsd != null) {
      request.header(Headers.WORKFLOW_BUDGET_USD, budgetUsd);
    }
    return request
        .header("Authorization", KEY)
        .header("Content-Type", "application/json")
        .header(Headers.WORKFLOW_ID, workflowId.toString())
        .POST(
            HttpRequest.BodyPublishers.ofString(
                "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\","
                    + "\"content\":\"Name one risk of the parcel tracking feature.\"}]}"));
  }

  private void drain(UUID workflowId, Map<UUID, Integer> seen) throws IOException {
    take(workflowId, r -> seen.merge(r.eventId(), 1, Integer::sum));
  }

  /** Takes every record waiting in the test's queue, handing the workflow's to {@code found}. */
  private void take(UUID workflowId, java.util.function.Consumer<LlmCallRecorded> found)
      throws IOException {
    try (Channel ch = rabbit.createChannel()) {
      GetResponse g;
      while ((g = ch.basicGet(TEST_QUEUE, true)) != null) {
        LlmCallRecorded r = EventCodec.read(g.getBody(), LlmCallRecorded.class);
        if (workflowId.equals(r.workflowId())) {
          found.accept(r);
        }
      }
    } catch (java.util.concurrent.TimeoutException e) {
      throw new IOException(e);
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
