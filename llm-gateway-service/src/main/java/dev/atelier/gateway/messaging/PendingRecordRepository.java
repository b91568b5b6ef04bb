package dev.atelier.gateway.messaging;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.atelier.contracts.AtelierEvent;
import dev.atelier.contracts.BudgetThresholdCrossed;
import dev.atelier.contracts.EventCodec;
import dev.atelier.contracts.LlmCallRecorded;
import dev.atelier.contracts.Topology;
import dev.atelier.kit.db.Plans;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.charset.StandardCharsets;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import javax.sql.DataSource;

/**
 * The {@code pending_call_record} table, the gateway's outbox: LLM-call records whose confirmed
 * publish failed, and budget threshold events written in the transaction that settled the spend
 * (see {@code BudgetRepository}). {@link PendingRecordDrainer} publishes both.
 */
@ApplicationScoped
public class PendingRecordRepository {

  private static final com.fasterxml.jackson.core.type.TypeReference<Map<String, String>> HEADERS =
      new com.fasterxml.jackson.core.type.TypeReference<>() {};

  private final DataSource dataSource;
  private final ObjectMapper mapper;

  PendingRecordRepository(DataSource dataSource, ObjectMapper mapper) {
    this.dataSource = dataSource;
    this.mapper = mapper;
  }

  /** Event types the outbox can hold, and the record each is read back as. */
  private static final Map<String, Class<? extends AtelierEvent>> TYPES =
      Map.of(
          LlmCallRecorded.TYPE, LlmCallRecorded.class,
          BudgetThresholdCrossed.TYPE, BudgetThresholdCrossed.class);

  /** A spooled event, where it goes, and the trace context it was published in. */
  public record Pending(
      String exchange, String routingKey, AtelierEvent event, Map<String, String> traceHeaders) {

    /** An LLM-call record, for {@link Topology#LLM_CALLS_EXCHANGE}. */
    public Pending(LlmCallRecorded event, Map<String, String> traceHeaders) {
      this(Topology.LLM_CALLS_EXCHANGE, Topology.LLM_CALL, event, traceHeaders);
    }
  }

  /**
   * Stores events; one already stored (same event id) is left as it is. Inside a transaction the
   * rows commit with it (the datasource enlists the connection).
   */
  public void insert(List<Pending> records, String error) throws SQLException {
    List<Row> rows = new ArrayList<>(records.size());
    for (Pending p : records) {
      if (!TYPES.containsKey(p.event().type())) {
        throw new IllegalArgumentException("the outbox cannot hold " + p.event().type());
      }
      rows.add(
          new Row(
              p.event().eventId(),
              new String(EventCodec.write(p.event()), StandardCharsets.UTF_8),
              p.traceHeaders(),
              p.exchange(),
              p.routingKey(),
              p.event().type()));
    }
    insertRows(rows, error);
  }

  /** Stores journaled LLM-call records as they were encoded; same rules as {@link #insert}. */
  public void insertJournaled(List<JournaledRecord> records, String error) throws SQLException {
    List<Row> rows = new ArrayList<>(records.size());
    for (JournaledRecord r : records) {
      rows.add(
          new Row(
              r.eventId(),
              new String(r.body(), StandardCharsets.UTF_8),
              r.traceHeaders(),
              Topology.LLM_CALLS_EXCHANGE,
              Topology.LLM_CALL,
              LlmCallRecorded.TYPE));
    }
    insertRows(rows, error);
  }

  private record Row(
      UUID eventId,
      String json,
      Map<String, String> traceHeaders,
      String exchange,
      String routingKey,
      String type) {}

  private void insertRows(List<Row> rows, String error) throws SQLException {
    String sql =
        "insert into pending_call_record (event_id, event, trace_headers, last_error, exchange,"
            + " routing_key, event_type) values (?, ?::jsonb, ?::jsonb, ?, ?, ?, ?)"
            + " on conflict (event_id) do nothing";
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      for (Row r : rows) {
        ps.setObject(1, r.eventId());
        ps.setString(2, r.json());
        ps.setString(3, json(r.traceHeaders()));
        ps.setString(4, error);
        ps.setString(5, r.exchange());
        ps.setString(6, r.routingKey());
        ps.setString(7, r.type());
        ps.addBatch();
      }
      ps.executeBatch();
    }
  }

  /**
   * Locks and returns the oldest spooled records; other replicas skip the locked rows. Call inside
   * a transaction that also deletes what was published. Planned at every execution, as {@link
   * #delete} is.
   */
  public List<Pending> lockOldest(int limit) throws SQLException {
    String sql =
        "select event, trace_headers, exchange, routing_key, event_type from pending_call_record"
            + " order by created_at"
            + " limit ? for update skip locked";
    List<Pending> found = new ArrayList<>();
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = Plans.planEachExecution(c.prepareStatement(sql))) {
      ps.setInt(1, limit);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          AtelierEvent event =
              EventCodec.read(
                  rs.getString(1).getBytes(StandardCharsets.UTF_8), TYPES.get(rs.getString(5)));
          Map<String, String> headers;
          try {
            headers = mapper.readValue(rs.getString(2), HEADERS);
          } catch (JsonProcessingException e) {
            headers = Map.of();
          }
          found.add(new Pending(rs.getString(3), rs.getString(4), event, headers));
        }
      }
    }
    return found;
  }

  /**
   * Deletes published records. This statement and {@link #markFailed} are planned at every
   * execution (see {@link Plans}): the spool is nearly empty most of the time and thousands of rows
   * long after a broker outage, and a plan cached while it was small scans all of them.
   */
  public void delete(List<UUID> eventIds) throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            Plans.planEachExecution(
                c.prepareStatement("delete from pending_call_record where event_id = any(?)"))) {
      Array ids = c.createArrayOf("uuid", eventIds.toArray());
      ps.setArray(1, ids);
      ps.executeUpdate();
    }
  }

  public void markFailed(List<UUID> eventIds, String error) throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            Plans.planEachExecution(
                c.prepareStatement(
                    "update pending_call_record set attempts = attempts + 1, last_error = ?"
                        + " where event_id = any(?)"))) {
      ps.setString(1, error);
      ps.setArray(2, c.createArrayOf("uuid", eventIds.toArray()));
      ps.executeUpdate();
    }
  }

  public long count() throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement("select count(*) from pending_call_record");
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private String json(Map<String, String> headers) {
    try {
      return mapper.writeValueAsString(headers == null ? Map.of() : headers);
    } catch (JsonProcessingException e) {
      return "{}";
    }
  }
}
