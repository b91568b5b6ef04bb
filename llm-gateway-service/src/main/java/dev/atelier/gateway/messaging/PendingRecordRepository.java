package dev.atelier.gateway.messaging;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.atelier.contracts.EventCodec;
import dev.atelier.contracts.LlmCallRecorded;
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

/** The {@code pending_call_record} spool: records whose confirmed publish failed. */
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

  /** A spooled record and the trace context it was published in. */
  public record Pending(LlmCallRecorded event, Map<String, String> traceHeaders) {}

  /** Stores records; one already stored (same event id) is left as it is. */
  public void insert(List<Pending> records, String error) throws SQLException {
    String sql =
        "insert into pending_call_record (event_id, event, trace_headers, last_error)"
            + " values (?, ?::jsonb, ?::jsonb, ?) on conflict (event_id) do nothing";
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      for (Pending p : records) {
        ps.setObject(1, p.event().eventId());
        ps.setString(2, new String(EventCodec.write(p.event()), StandardCharsets.UTF_8));
        ps.setString(3, json(p.traceHeaders()));
        ps.setString(4, error);
        ps.addBatch();
      }
      ps.executeBatch();
    }
  }

  /**
   * Locks and returns the oldest spooled records; other replicas skip the locked rows. Call inside
   * a transaction that also deletes what was published.
   */
  public List<Pending> lockOldest(int limit) throws SQLException {
    String sql =
        "select event, trace_headers from pending_call_record order by created_at"
            + " limit ? for update skip locked";
    List<Pending> found = new ArrayList<>();
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setInt(1, limit);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          LlmCallRecorded event =
              EventCodec.read(
                  rs.getString(1).getBytes(StandardCharsets.UTF_8), LlmCallRecorded.class);
          Map<String, String> headers;
          try {
            headers = mapper.readValue(rs.getString(2), HEADERS);
          } catch (JsonProcessingException e) {
            headers = Map.of();
          }
          found.add(new Pending(event, headers));
        }
      }
    }
    return found;
  }

  public void delete(List<UUID> eventIds) throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement("delete from pending_call_record where event_id = any(?)")) {
      Array ids = c.createArrayOf("uuid", eventIds.toArray());
      ps.setArray(1, ids);
      ps.executeUpdate();
    }
  }

  public void markFailed(List<UUID> eventIds, String error) throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "update pending_call_record set attempts = attempts + 1, last_error = ?"
                    + " where event_id = any(?)")) {
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
