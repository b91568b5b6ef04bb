package dev.atelier.tracking;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.atelier.contracts.LlmCallRecorded;
import dev.atelier.contracts.Topology;
import dev.atelier.contracts.WorkflowStatusChanged;
import dev.atelier.kit.amqp.EventPublisher;
import dev.atelier.kit.amqp.Outgoing;
import io.micrometer.core.instrument.MeterRegistry;
import io.restassured.RestAssured;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.UUID;
import javax.sql.DataSource;

/**
 * What the tests do to the running service: publish through service-kit's confirmed publisher to
 * the real exchanges, wait for the consumers, read back over HTTP or SQL.
 */
final class Ledger {

  static final Duration PATIENCE = Duration.ofSeconds(30);

  /** Numbers as exact decimals, so a cost compares without float rounding. */
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);

  private final EventPublisher publisher;
  private final DataSource dataSource;
  private final MeterRegistry registry;

  Ledger(EventPublisher publisher, DataSource dataSource, MeterRegistry registry) {
    this.publisher = publisher;
    this.dataSource = dataSource;
    this.registry = registry;
  }

  void publish(Collection<LlmCallRecorded> calls) {
    publisher.publishAll(
        calls.stream()
            .map(c -> Outgoing.now(Topology.LLM_CALLS_EXCHANGE, Topology.LLM_CALL, c))
            .toList());
  }

  void publish(LlmCallRecorded call) {
    publish(List.of(call));
  }

  void publish(WorkflowStatusChanged change) {
    publisher.publish(
        Topology.WORKFLOW_EVENTS_EXCHANGE,
        Topology.workflowStatusRoutingKey(change.status()),
        change);
  }

  /** Rows with these ids, counted in the table itself. */
  long rows(Collection<UUID> ids) {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement("select count(*) from llm_call where event_id = any (?)")) {
      ps.setArray(1, c.createArrayOf("uuid", ids.toArray()));
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  void awaitRows(Collection<UUID> ids) {
    await().atMost(PATIENCE).until(() -> rows(ids) == ids.size());
  }

  /** Records the consumer has classified as duplicates since the service started. */
  double duplicates() {
    var counter = registry.find("atelier.tracking.llm.calls").tag("outcome", "duplicate").counter();
    return counter == null ? 0 : counter.count();
  }

  /** Waits until the consumer has seen {@code more} duplicates beyond {@code before}. */
  void awaitDuplicates(double before, int more) {
    await().atMost(PATIENCE).until(() -> duplicates() >= before + more);
  }

  static JsonNode getJson(String path) {
    String body = RestAssured.get(path).then().statusCode(200).extract().asString();
    return parse(body);
  }

  static JsonNode parse(String body) {
    try {
      return JSON.readTree(body);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  DataSource dataSource() {
    return dataSource;
  }
}
