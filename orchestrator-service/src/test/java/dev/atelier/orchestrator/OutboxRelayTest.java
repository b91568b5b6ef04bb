package dev.atelier.orchestrator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.atelier.contracts.EventCodec;
import dev.atelier.contracts.Topology;
import dev.atelier.contracts.WorkflowStatusChanged;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The relay publishes what it can and keeps what the broker refuses. */
@QuarkusTest
class OutboxRelayTest {

  private static TestWorker worker;

  @Inject DataSource dataSource;

  @BeforeAll
  static void startWorker() throws Exception {
    worker = TestWorker.shared();
  }

  private long insert(String routingKey, WorkflowStatusChanged event) throws Exception {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "insert into outbox (exchange, routing_key, event_id, event_type, workflow_id,"
                    + " payload) values (?, ?, ?, ?, ?, ?::jsonb) returning id")) {
      ps.setString(1, Topology.WORKFLOW_EVENTS_EXCHANGE);
      ps.setString(2, routingKey);
      ps.setObject(3, event.eventId());
      ps.setString(4, event.type());
      ps.setObject(5, event.workflowId());
      ps.setString(6, new String(EventCodec.write(event), StandardCharsets.UTF_8));
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  private static WorkflowStatusChanged event(UUID workflowId) {
    return new WorkflowStatusChanged(
        UUID.randomUUID(),
        WorkflowStatusChanged.TYPE,
        Instant.now(),
        workflowId,
        "software-delivery",
        1,
        "relay test",
        "default",
        "completed",
        "running",
        null);
  }

  @Test
  void unroutableRowIsKeptAndBackedOffWhileTheOthersArePublished() throws Exception {
    UUID lost = UUID.randomUUID();
    UUID delivered = UUID.randomUUID();
    long unroutable = insert("nowhere.at.all", event(lost));
    long routable = insert(Topology.workflowStatusRoutingKey("completed"), event(delivered));

    try {
      await().atMost(Duration.ofSeconds(10)).until(() -> !worker.statusEvents(delivered).isEmpty());
      await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () ->
                  TestDb.count(
                          dataSource,
                          "select count(*) from outbox where id = ? and publish_attempts >= 1"
                              + " and last_error like 'unroutable%' and next_attempt_at > now()",
                          unroutable)
                      == 1);
      assertThat(TestDb.count(dataSource, "select count(*) from outbox where id = ?", routable))
          .isZero();
      assertThat(worker.statusEvents(lost)).isEmpty();
    } finally {
      // Otherwise the row would be retried as long as the test database lives.
      try (Connection c = dataSource.getConnection();
          PreparedStatement ps = c.prepareStatement("delete from outbox where id = ?")) {
        ps.setLong(1, unroutable);
        ps.executeUpdate();
      }
    }
  }
}
