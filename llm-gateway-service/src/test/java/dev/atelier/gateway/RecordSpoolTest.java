package dev.atelier.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.atelier.contracts.EventCodec;
import dev.atelier.contracts.LlmCallRecorded;
import dev.atelier.contracts.Topology;
import dev.atelier.gateway.messaging.PendingRecordRepository;
import dev.atelier.kit.amqp.RabbitBroker;
import dev.atelier.kit.db.ShadowTable;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

/**
 * A record whose publish was not confirmed waits in the spool table and is re-published by the
 * drainer once the broker takes it: the path that keeps records while the broker is down.
 */
@QuarkusTest
class RecordSpoolTest {

  @Inject RabbitBroker broker;
  @Inject PendingRecordRepository spool;
  @Inject DataSource dataSource;

  @Test
  void spooledRecordIsRepublishedAndRemoved() throws Exception {
    RecordedCalls records = new RecordedCalls(broker);
    records.prepare();
    UUID workflowId = UUID.randomUUID();
    LlmCallRecorded event = RecordFixtures.event(workflowId);
    UUID eventId = event.eventId();
    spool.insert(
        List.of(
            new PendingRecordRepository.Pending(
                event,
                Map.of("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"))),
        "test: broker did not confirm");
    // Spooling the same record again (a retried spool) does not duplicate it.
    spool.insert(List.of(new PendingRecordRepository.Pending(event, Map.of())), "again");

    await()
        .atMost(Duration.ofSeconds(15))
        .untilAsserted(() -> assertThat(records.forWorkflow(workflowId)).hasSize(1));
    LlmCallRecorded republished = records.forWorkflow(workflowId).get(0);
    assertThat(republished).isEqualTo(event);
    await().atMost(Duration.ofSeconds(5)).until(() -> !spooled(eventId));
  }

  /**
   * A drained batch of which the broker returned one event (no queue bound for it) keeps only that
   * one: the others are on their queues, leave the spool, and are not published again at the next
   * rounds while the returned one is retried.
   */
  @Test
  void anUnroutableEventKeepsOnlyItselfInTheSpool() throws Exception {
    RecordedCalls records = new RecordedCalls(broker);
    records.prepare();
    UUID workflowId = UUID.randomUUID();
    LlmCallRecorded routable = RecordFixtures.event(workflowId);
    LlmCallRecorded unroutable = RecordFixtures.event(workflowId);
    spool.insert(
        List.of(
            new PendingRecordRepository.Pending(routable, Map.of()),
            new PendingRecordRepository.Pending(
                Topology.LLM_CALLS_EXCHANGE, "no.queue.is.bound", unroutable, Map.of())),
        "test: broker did not confirm");
    try {
      await().atMost(Duration.ofSeconds(15)).until(() -> !spooled(routable.eventId()));
      // Several more rounds (every 500 ms in tests) retry the returned one.
      await().atMost(Duration.ofSeconds(15)).until(() -> attempts(unroutable.eventId()) >= 3);
      assertThat(spooled(unroutable.eventId())).isTrue();
      assertThat(records.forWorkflow(workflowId)).containsExactly(routable);
    } finally {
      spool.delete(List.of(unroutable.eventId()));
    }
  }

  private long attempts(UUID eventId) throws Exception {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement("select attempts from pending_call_record where event_id = ?")) {
      ps.setObject(1, eventId);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getLong(1) : -1;
      }
    }
  }

  /**
   * The drainer's statements are planned for the spool as it is: a plan cached while it was nearly
   * empty (most of the time) would scan every row of a spool grown during an outage.
   */
  @Test
  void drainingAGrownSpoolDoesNotScanIt() throws Exception {
    // One transaction, so the repository works on this connection; rolled back at the end.
    QuarkusTransaction.begin();
    try (Connection c = dataSource.getConnection()) {
      // A spool as autovacuum leaves it most of the time: nearly empty, and analysed so.
      ShadowTable shadow = ShadowTable.of(c, "pending_call_record");
      spool.insert(records(1), "broker down");
      shadow.analyse();
      for (int batch = 0; batch < 15; batch++) {
        spool.insert(records(10), "broker down");
        spool.markFailed(eventIds(spool.lockOldest(20)), "still down");
        spool.delete(eventIds(spool.lockOldest(20)));
      }
      // An outage's worth of records, before autovacuum analyses the table again.
      shadow.fill(
          20000,
          "event_id, event, exchange, routing_key, event_type",
          "gen_random_uuid(), ?::jsonb, 'atelier.llm-calls', 'llm.call', ?",
          new String(
              EventCodec.write(RecordFixtures.event(UUID.randomUUID())), StandardCharsets.UTF_8),
          LlmCallRecorded.TYPE);
      long scansBefore = shadow.sequentialScans();
      List<UUID> oldest = eventIds(spool.lockOldest(10));
      spool.markFailed(oldest, "still down");
      spool.delete(oldest);

      assertThat(shadow.sequentialScans())
          .as("sequential scans of the spool")
          .isEqualTo(scansBefore);
      assertThat(oldest).hasSize(10);
    } finally {
      QuarkusTransaction.rollback();
    }
  }

  private static List<PendingRecordRepository.Pending> records(int n) {
    return Stream.generate(
            () ->
                new PendingRecordRepository.Pending(
                    RecordFixtures.event(UUID.randomUUID()), Map.of()))
        .limit(n)
        .toList();
  }

  private static List<UUID> eventIds(List<PendingRecordRepository.Pending> pending) {
    return pending.stream().map(p -> p.event().eventId()).toList();
  }

  private boolean spooled(UUID eventId) throws Exception {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement("select count(*) from pending_call_record where event_id = ?")) {
      ps.setObject(1, eventId);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1) > 0;
      }
    }
  }
}
