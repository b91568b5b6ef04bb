package dev.atelier.tracking;

import static dev.atelier.tracking.CallBuilder.call;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;

import com.fasterxml.jackson.databind.JsonNode;
import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import dev.atelier.contracts.EventCodec;
import dev.atelier.contracts.LlmCallRecorded;
import dev.atelier.contracts.Topology;
import dev.atelier.contracts.WorkflowStatusChanged;
import dev.atelier.kit.amqp.EventPublisher;
import dev.atelier.kit.amqp.RabbitBroker;
import dev.atelier.tracking.repository.LedgerPartitions;
import dev.atelier.tracking.service.PartitionMaintenance;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Ingest through the real broker: exactly once, dead letters, workflow status, partitions. */
@QuarkusTest
class IngestTest {

  private static final String DEAD_LETTERS = Topology.TRACKING_LLM_CALLS.deadLetterQueue();

  @Inject EventPublisher publisher;
  @Inject DataSource dataSource;
  @Inject MeterRegistry registry;
  @Inject RabbitBroker broker;
  @Inject PartitionMaintenance maintenance;

  private Ledger ledger;
  private DeadLetters deadLetters;

  private DeadLetters deadLetters() {
    if (deadLetters == null) {
      deadLetters = new DeadLetters(broker, DEAD_LETTERS);
    }
    return deadLetters;
  }

  @BeforeEach
  void setUp() {
    ledger = new Ledger(publisher, dataSource, registry);
  }

  @Test
  void storesEveryFieldOfARecord() {
    UUID workflowId = UUID.randomUUID();
    LlmCallRecorded sent =
        call()
            .workflow(workflowId)
            .cost("0.0012345678")
            .fallback("openai/gpt-4o>anthropic/claude-sonnet")
            .build();

    ledger.publish(sent);
    ledger.awaitRows(Set.of(sent.eventId()));

    JsonNode got = Ledger.getJson("/api/v1/llm-calls/" + sent.eventId());
    assertThat(got.get("id").asText()).isEqualTo(sent.eventId().toString());
    assertThat(Instant.parse(got.get("occurredAt").asText())).isEqualTo(sent.occurredAt());
    assertThat(got.get("workflowId").asText()).isEqualTo(workflowId.toString());
    assertThat(got.get("stepId").asText()).isEqualTo(sent.stepId());
    assertThat(got.get("agent").asText()).isEqualTo(sent.agent());
    assertThat(got.get("conversationId").asText()).isEqualTo(sent.conversationId());
    assertThat(got.get("team").asText()).isEqualTo(sent.team());
    assertThat(got.get("provider").asText()).isEqualTo("simulated");
    assertThat(got.get("requestModel").asText()).isEqualTo(sent.requestModel());
    assertThat(got.get("responseModel").asText()).isEqualTo(sent.responseModel());
    assertThat(got.get("status").asText()).isEqualTo("ok");
    assertThat(got.get("inputTokens").asLong()).isEqualTo(sent.inputTokens());
    assertThat(got.get("cachedInputTokens").asLong()).isEqualTo(sent.cachedInputTokens());
    assertThat(got.get("outputTokens").asLong()).isEqualTo(sent.outputTokens());
    assertThat(got.get("costUsd").decimalValue()).isEqualByComparingTo("0.0012345678");
    assertThat(got.get("costUsd").toString()).isEqualTo("0.0012345678");
    assertThat(Instant.parse(got.get("startedAt").asText())).isEqualTo(sent.startedAt());
    assertThat(got.get("latencyMs").asLong()).isEqualTo(sent.latencyMs());
    assertThat(got.get("simulated").asBoolean()).isTrue();
    assertThat(got.get("traceId").asText()).isEqualTo(sent.traceId());
    assertThat(got.get("spanId").asText()).isEqualTo("b7ad6b7169203331");
    assertThat(got.get("fallbackPath").asText()).isEqualTo("openai/gpt-4o>anthropic/claude-sonnet");
    assertThat(got.get("recordedAt").isNull()).isFalse();
  }

  @Test
  void aRedeliveredRecordNeverMakesASecondRow() {
    LlmCallRecorded sent = call().workflow(UUID.randomUUID()).build();
    ledger.publish(sent);
    ledger.awaitRows(Set.of(sent.eventId()));
    double before = ledger.duplicates();

    ledger.publish(sent);
    ledger.publish(List.of(sent, sent));

    ledger.awaitDuplicates(before, 3);
    assertThat(ledger.rows(Set.of(sent.eventId()))).isEqualTo(1);
  }

  @Test
  void garbageIsDeadLetteredWithItsReasonAndDoesNotBlockTheQueue() throws Exception {
    byte[] garbage = ("not an event " + UUID.randomUUID()).getBytes(StandardCharsets.UTF_8);
    LlmCallRecorded after = call().workflow(UUID.randomUUID()).build();

    try (Channel raw = broker.connection().createChannel()) {
      raw.basicPublish(
          Topology.LLM_CALLS_EXCHANGE,
          Topology.LLM_CALL,
          new AMQP.BasicProperties.Builder().contentType("application/json").build(),
          garbage);
    }
    ledger.publish(after);

    ledger.awaitRows(Set.of(after.eventId()));
    assertThat(deadLetters().awaitReason(garbage)).contains("not JSON");
  }

  @Test
  void aRecordThatBreaksTheRulesIsDeadLetteredNotStored() throws Exception {
    LlmCallRecorded negative = call().workflow(UUID.randomUUID()).tokens(-5, 0, 10, 0).build();
    LlmCallRecorded after = call().workflow(UUID.randomUUID()).build();

    ledger.publish(negative);
    ledger.publish(after);

    ledger.awaitRows(Set.of(after.eventId()));
    assertThat(deadLetters().awaitReason(EventCodec.write(negative)))
        .contains("token counts must not be negative");
    assertThat(ledger.rows(Set.of(negative.eventId()))).isZero();
  }

  @Test
  void aRecordWithANulCharacterIsDeadLetteredAloneNotItsBatch() throws Exception {
    // A NUL character is valid JSON, but PostgreSQL's text cannot hold it: in a batch it failed
    // every record.
    LlmCallRecorded nul = call().workflow(UUID.randomUUID()).step("s1", "dev\u0000eloper").build();
    LlmCallRecorded after = call().workflow(UUID.randomUUID()).build();

    ledger.publish(List.of(nul, after));

    ledger.awaitRows(Set.of(after.eventId()));
    assertThat(deadLetters().awaitReason(EventCodec.write(nul))).contains("must not contain NUL");
    assertThat(ledger.rows(Set.of(nul.eventId()))).isZero();
  }

  @Test
  void aRecordWithTextLongerThanTheLedgersIndexesHoldIsDeadLetteredAloneNotItsBatch()
      throws Exception {
    // 3,000 bytes of agent: valid JSON, but past what a B-tree entry (the label dictionary, the
    // rollups' key) holds. In a batch it failed every record, until all were dead-lettered.
    LlmCallRecorded before = call().workflow(UUID.randomUUID()).build();
    LlmCallRecorded tooLong =
        call().workflow(UUID.randomUUID()).step("s1", "a".repeat(3_000)).build();
    LlmCallRecorded after = call().workflow(UUID.randomUUID()).build();

    ledger.publish(List.of(before, tooLong, after));

    ledger.awaitRows(Set.of(before.eventId(), after.eventId()));
    assertThat(deadLetters().awaitReason(EventCodec.write(tooLong)))
        .isEqualTo("agent is longer than 1024 bytes in UTF-8");
    assertThat(ledger.rows(Set.of(tooLong.eventId()))).isZero();
  }

  @Test
  void aRecordFromBeyondTheLedgersTimesIsDeadLetteredAloneNotItsBatch() throws Exception {
    // Year 300000: valid ISO-8601, but past what PostgreSQL's timestamps hold.
    LlmCallRecorded farFuture =
        call().workflow(UUID.randomUUID()).at(Instant.parse("+300000-01-01T00:00:00Z")).build();
    LlmCallRecorded after = call().workflow(UUID.randomUUID()).build();

    ledger.publish(farFuture);
    ledger.publish(after);

    ledger.awaitRows(Set.of(after.eventId()));
    assertThat(deadLetters().awaitReason(EventCodec.write(farFuture)))
        .contains("occurredAt and startedAt must lie between");
    assertThat(ledger.rows(Set.of(farFuture.eventId()))).isZero();
  }

  @Test
  void anOlderStatusNeverOverwritesANewerOne() {
    UUID workflowId = UUID.randomUUID();
    Instant t0 = Instant.parse("2025-03-10T10:00:00Z");

    ledger.publish(status(workflowId, "completed", "running", t0.plusSeconds(60)));
    await()
        .atMost(Ledger.PATIENCE)
        .until(() -> given().get(usagePath(workflowId)).statusCode() == 200);
    given()
        .get(usagePath(workflowId))
        .then()
        .body("status", equalTo("completed"))
        .body("title", equalTo("Ledger export"))
        .body("team", equalTo("team-ledger"))
        .body("totals.calls", equalTo(0));

    // Delivered late but older: ignored. A later workflow's event proves it has been handled,
    // since the workflow-event queue is consumed by one channel, in order.
    ledger.publish(status(workflowId, "running", null, t0));
    UUID marker = UUID.randomUUID();
    ledger.publish(status(marker, "running", null, t0));
    await().atMost(Ledger.PATIENCE).until(() -> given().get(usagePath(marker)).statusCode() == 200);
    given().get(usagePath(workflowId)).then().body("status", equalTo("completed"));

    // A newer one is applied.
    ledger.publish(status(workflowId, "cancelled", "completed", t0.plusSeconds(120)));
    await()
        .atMost(Ledger.PATIENCE)
        .untilAsserted(
            () -> given().get(usagePath(workflowId)).then().body("status", equalTo("cancelled")));
  }

  @Test
  void partitionsAroundTheCurrentMonthExistAfterStartUp() throws Exception {
    YearMonth now = YearMonth.now(ZoneOffset.UTC);
    for (YearMonth m = now.minusMonths(1); !m.isAfter(now.plusMonths(2)); m = m.plusMonths(1)) {
      assertThat(partitionExists(LedgerPartitions.name(m))).as(m.toString()).isTrue();
    }
    assertThat(maintenance.ensureCurrent()).isEmpty();
  }

  @Test
  void partitionCreationGivesUpBehindALongReaderInsteadOfStallingInserts() throws Exception {
    YearMonth ahead = YearMonth.now(ZoneOffset.UTC).plusMonths(2);
    String name = LedgerPartitions.name(ahead);
    try (Connection c = dataSource.getConnection();
        Statement st = c.createStatement()) {
      st.execute("drop table if exists " + name);
    }
    CompletableFuture<List<YearMonth>> attempt;
    try (Connection reader = dataSource.getConnection()) {
      // A long reader of the ledger, as a CSV export's cursor is.
      reader.setAutoCommit(false);
      try (Statement st = reader.createStatement()) {
        st.executeQuery("select count(*) from llm_call").close();
      }
      try {
        attempt = CompletableFuture.supplyAsync(maintenance::ensureCurrent);
        await().atMost(Duration.ofSeconds(30)).until(this::partitionCreationIsWaiting);

        // An insert queues behind the waiting creation, but only until its lock timeout.
        long start = System.nanoTime();
        try (Connection writer = dataSource.getConnection();
            Statement st = writer.createStatement()) {
          st.setQueryTimeout(20);
          st.executeUpdate("insert into llm_call select * from llm_call where false");
        }
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
        assertThat(attempt.get(20, TimeUnit.SECONDS)).doesNotContain(ahead);
        assertThat(partitionExists(name)).isFalse();
      } finally {
        reader.rollback();
      }
    }
    // The next run, with no reader in the way, creates it.
    assertThat(maintenance.ensureCurrent()).containsExactly(ahead);
    assertThat(partitionExists(name)).isTrue();
  }

  private boolean partitionCreationIsWaiting() throws Exception {
    try (Connection c = dataSource.getConnection();
        Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                "select exists (select 1 from pg_locks where not granted"
                    + " and relation = 'llm_call'::regclass and mode = 'AccessExclusiveLock')")) {
      rs.next();
      return rs.getBoolean(1);
    }
  }

  @Test
  void aRecordWithoutItsMonthsPartitionLandsInTheDefaultOneAndMovesWhenThePartitionIsCreated()
      throws Exception {
    YearMonth old = YearMonth.of(2001, 1);
    try (Connection c = dataSource.getConnection();
        Statement st = c.createStatement()) {
      // A previous run created it; this test needs the month without a partition again.
      st.execute("drop table if exists " + LedgerPartitions.name(old));
    }
    LlmCallRecorded sent =
        call().workflow(UUID.randomUUID()).at(Instant.parse("2001-01-31T23:59:59.999999Z")).build();

    ledger.publish(sent);
    ledger.awaitRows(Set.of(sent.eventId()));
    assertThat(partitionOf(sent.eventId())).isEqualTo("llm_call_default");

    assertThat(maintenance.ensure(old)).isTrue();
    assertThat(partitionOf(sent.eventId())).isEqualTo(LedgerPartitions.name(old));
    assertThat(maintenance.ensure(old)).isFalse();
    given().get("/api/v1/llm-calls/" + sent.eventId()).then().statusCode(200);

    // Still exactly once after the move.
    double before = ledger.duplicates();
    ledger.publish(sent);
    ledger.awaitDuplicates(before, 1);
    assertThat(ledger.rows(Set.of(sent.eventId()))).isEqualTo(1);
  }

  private static WorkflowStatusChanged status(
      UUID workflowId, String status, String previous, Instant at) {
    return new WorkflowStatusChanged(
        UUID.randomUUID(),
        WorkflowStatusChanged.TYPE,
        at,
        workflowId,
        "software-delivery",
        1,
        "Ledger export",
        "team-ledger",
        status,
        previous,
        null);
  }

  private static String usagePath(UUID workflowId) {
    return "/api/v1/workflows/" + workflowId + "/usage";
  }

  private boolean partitionExists(String name) throws Exception {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "select 1 from pg_inherits i join pg_class p on p.oid = i.inhparent"
                    + " join pg_class k on k.oid = i.inhrelid"
                    + " where p.relname = 'llm_call' and k.relname = ?")) {
      ps.setString(1, name);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next();
      }
    }
  }

  private String partitionOf(UUID eventId) throws Exception {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "select tableoid::regclass::text from llm_call where event_id = ?")) {
      ps.setObject(1, eventId);
      try (ResultSet rs = ps.executeQuery()) {
        assertThat(rs.next()).isTrue();
        return rs.getString(1);
      }
    }
  }
}
