package dev.atelier.orchestrator;

import static org.assertj.core.api.Assertions.assertThat;

import dev.atelier.contracts.ArtifactRef;
import dev.atelier.contracts.EventCodec;
import dev.atelier.contracts.StepRequested;
import dev.atelier.contracts.Topology;
import dev.atelier.orchestrator.model.AgentDefinition;
import dev.atelier.orchestrator.repository.AgentRepository;
import dev.atelier.orchestrator.repository.OutboxRepository;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

/**
 * A step request (it carries its agent definition, several kB of JSON) is stored in its outbox row,
 * compressed, rather than in TOAST chunks that every publish would insert, index and delete again.
 */
@QuarkusTest
class OutboxStorageTest {

  @Inject DataSource dataSource;
  @Inject OutboxRepository outbox;
  @Inject AgentRepository agents;

  @Test
  void aStepRequestIsStoredCompressedInItsRowWithoutToastChunks() throws Exception {
    // The largest built-in agent definition, as a real step request carries it.
    AgentDefinition agent =
        agents.current().stream()
            .map(AgentRepository.Stored::definition)
            .max(Comparator.comparingInt(a -> EventCodec.write(request(a)).length))
            .orElseThrow();
    StepRequested request = request(agent);
    int encoded = EventCodec.write(request).length;
    assertThat(encoded).as("a step request is larger than the TOAST threshold").isGreaterThan(2100);

    // Inside a transaction that is rolled back: the relay never sees (or publishes) the row.
    QuarkusTransaction.begin();
    try (Connection c = dataSource.getConnection()) {
      String toast = toastTableOf(c);
      outbox.insertAll(
          List.of(
              new OutboxRepository.Message(
                  Topology.STEPS_EXCHANGE, Topology.stepRoutingKey(agent.name()), request)),
          Map.of());
      try (PreparedStatement ps =
          c.prepareStatement(
              "select octet_length(body), pg_column_size(body) from outbox where event_id = ?")) {
        ps.setObject(1, request.eventId());
        try (ResultSet rs = ps.executeQuery()) {
          assertThat(rs.next()).isTrue();
          assertThat(rs.getInt(1)).isEqualTo(encoded);
          assertThat(rs.getInt(2)).as("stored compressed").isLessThan(encoded);
        }
      }
      // Chunks this transaction wrote (xmin is its 32-bit transaction id).
      assertThat(
              count(
                  c,
                  "select count(*) from "
                      + toast
                      + " where xmin::text = (pg_current_xact_id()::text::bigint % 4294967296)::text"))
          .as("TOAST chunks written for the row")
          .isZero();
    } finally {
      QuarkusTransaction.rollback();
    }
  }

  private static long count(Connection c, String sql) throws Exception {
    try (PreparedStatement ps = c.prepareStatement(sql);
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static String toastTableOf(Connection c) throws Exception {
    try (PreparedStatement ps =
            c.prepareStatement(
                "select reltoastrelid::regclass::text from pg_class where oid = 'outbox'::regclass");
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getString(1);
    }
  }

  private static StepRequested request(AgentDefinition agent) {
    UUID workflowId = UUID.randomUUID();
    return new StepRequested(
        UUID.randomUUID(),
        StepRequested.TYPE,
        Instant.now(),
        workflowId,
        UUID.randomUUID(),
        "design",
        1,
        agent.toSpec(),
        "Build an order-tracking page for our shop's customers.",
        List.of(new ArtifactRef("requirements", 1)),
        Instant.now().plusSeconds(600),
        null,
        null,
        null,
        Map.of());
  }
}
