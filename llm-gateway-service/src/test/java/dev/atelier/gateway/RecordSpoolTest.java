package dev.atelier.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.atelier.contracts.LlmCallRecorded;
import dev.atelier.gateway.messaging.PendingRecordRepository;
import dev.atelier.kit.amqp.RabbitBroker;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
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
