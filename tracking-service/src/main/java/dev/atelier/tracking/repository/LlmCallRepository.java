package dev.atelier.tracking.repository;

import dev.atelier.contracts.LlmCallRecorded;
import dev.atelier.tracking.model.LlmCall;
import dev.atelier.tracking.model.LlmCallFilter;
import dev.atelier.tracking.model.PageCursor;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import javax.sql.DataSource;

/** The {@code llm_call} ledger table. Callers own the transaction. */
@ApplicationScoped
public class LlmCallRepository {

  /** Columns written from an event, in bind order ({@code recorded_at} defaults to now()). */
  static final List<String> COLUMNS =
      List.of(
          "event_id",
          "occurred_at",
          "event_type",
          "workflow_id",
          "step_id",
          "agent",
          "conversation_id",
          "team",
          "operation",
          "provider",
          "request_model",
          "response_model",
          "status",
          "error_code",
          "streamed",
          "input_tokens",
          "cached_input_tokens",
          "output_tokens",
          "reasoning_tokens",
          "usage_source",
          "cost_usd",
          "price_version",
          "started_at",
          "latency_ms",
          "time_to_first_token_ms",
          "simulated",
          "trace_id",
          "span_id",
          "fallback_path");

  /**
   * Rows per insert statement: PostgreSQL's wire protocol allows 65,535 bind parameters, and a
   * thousand rows already amortise the round trip.
   */
  static final int MAX_ROWS_PER_STATEMENT = 1000;

  private static final String SELECT =
      "select " + String.join(", ", COLUMNS) + ", recorded_at from llm_call";

  private final DataSource dataSource;

  LlmCallRepository(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  /**
   * Inserts the records that are not in the ledger yet, in multi-row statements, and returns the
   * ids of those it stored; a record already there (same event id and time) is skipped, so a
   * redelivered batch changes nothing.
   */
  public Set<UUID> insertAll(List<LlmCallRecorded> records) {
    return Jdbc.unchecked("inserting LLM calls", () -> insert(records));
  }

  private Set<UUID> insert(List<LlmCallRecorded> records) throws SQLException {
    if (records.isEmpty()) {
      return Set.of();
    }
    // The same event twice in one batch is one row; keep the first.
    Map<UUID, LlmCallRecorded> unique = new LinkedHashMap<>();
    records.forEach(r -> unique.putIfAbsent(r.eventId(), r));
    List<LlmCallRecorded> rows = new ArrayList<>(unique.values());
    // One key order for every consumer: two batches that share a (re-published) event then wait
    // for each other's row in the same order and cannot deadlock.
    rows.sort(Comparator.comparing(LlmCallRecorded::eventId));
    Set<UUID> stored = new HashSet<>();
    try (Connection c = dataSource.getConnection()) {
      for (int start = 0; start < rows.size(); start += MAX_ROWS_PER_STATEMENT) {
        List<LlmCallRecorded> chunk =
            rows.subList(start, Math.min(rows.size(), start + MAX_ROWS_PER_STATEMENT));
        try (PreparedStatement ps = c.prepareStatement(insertSql(chunk.size()))) {
          int i = 1;
          for (LlmCallRecorded r : chunk) {
            i = bindRecord(ps, i, r);
          }
          try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              stored.add(rs.getObject(1, UUID.class));
            }
          }
        }
      }
    }
    return stored;
  }

  /** The call with this id, whatever its partition. */
  public Optional<LlmCall> find(UUID id) {
    return Jdbc.unchecked("reading an LLM call", () -> select(id));
  }

  private Optional<LlmCall> select(UUID id) throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(SELECT + " where event_id = ?")) {
      ps.setObject(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(map(rs)) : Optional.empty();
      }
    }
  }

  /**
   * Up to {@code limit} calls matching {@code filter}, newest first (ties by id, descending),
   * starting strictly after {@code after} when given.
   */
  public List<LlmCall> list(LlmCallFilter filter, PageCursor after, int limit) {
    return Jdbc.unchecked("listing LLM calls", () -> select(filter, after, limit));
  }

  private List<LlmCall> select(LlmCallFilter filter, PageCursor after, int limit)
      throws SQLException {
    FilterSql where = FilterSql.of(filter);
    if (after != null) {
      // A row comparison, so the (occurred_at, event_id) index can seek straight to the position;
      // the plain bound lets the planner skip the partitions of later months.
      where.add(
          "occurred_at <= ? and (occurred_at, event_id) < (?, ?)",
          after.occurredAt(),
          after.occurredAt(),
          after.id());
    }
    String sql =
        SELECT + where.where() + " order by occurred_at desc, event_id desc limit " + limit;
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      Jdbc.bind(ps, where.params());
      List<LlmCall> calls = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          calls.add(map(rs));
        }
      }
      return Collections.unmodifiableList(calls);
    }
  }

  /** Rows fetched per round trip while streaming. */
  private static final int STREAM_FETCH_SIZE = 1000;

  /**
   * Every call matching {@code filter}, newest first, handed to {@code sink} one at a time: the
   * driver reads through a server-side cursor ({@code fetchSize} needs autocommit off), so memory
   * stays flat however many rows match.
   */
  public void stream(LlmCallFilter filter, RowSink<LlmCall> sink) throws IOException {
    FilterSql where = FilterSql.of(filter);
    String sql = SELECT + where.where() + " order by occurred_at desc, event_id desc";
    try (Connection c = dataSource.getConnection()) {
      boolean autoCommit = c.getAutoCommit();
      c.setAutoCommit(false);
      try (PreparedStatement ps = c.prepareStatement(sql)) {
        ps.setFetchSize(STREAM_FETCH_SIZE);
        Jdbc.bind(ps, where.params());
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            sink.accept(map(rs));
          }
        }
      } finally {
        // Read-only: nothing to commit; end the transaction that holds the cursor.
        c.rollback();
        c.setAutoCommit(autoCommit);
      }
    } catch (SQLException e) {
      throw new DataAccessException("streaming LLM calls failed: " + e.getMessage(), e);
    }
  }

  private static String insertSql(int rows) {
    String row = "(" + String.join(", ", Collections.nCopies(COLUMNS.size(), "?")) + ")";
    return "insert into llm_call ("
        + String.join(", ", COLUMNS)
        + ") values "
        + String.join(", ", Collections.nCopies(rows, row))
        + " on conflict (event_id, occurred_at) do nothing returning event_id";
  }

  private static int bindRecord(PreparedStatement ps, int i, LlmCallRecorded r)
      throws SQLException {
    ps.setObject(i++, r.eventId());
    ps.setObject(i++, Jdbc.timestamp(r.occurredAt()));
    ps.setString(i++, r.type());
    ps.setObject(i++, r.workflowId(), Types.OTHER);
    ps.setString(i++, r.stepId());
    ps.setString(i++, r.agent());
    ps.setString(i++, r.conversationId());
    ps.setString(i++, r.team());
    ps.setString(i++, r.operation());
    ps.setString(i++, r.provider());
    ps.setString(i++, r.requestModel());
    ps.setString(i++, r.responseModel());
    ps.setString(i++, r.status());
    ps.setString(i++, r.errorCode());
    ps.setBoolean(i++, r.streamed());
    ps.setLong(i++, r.inputTokens());
    ps.setLong(i++, r.cachedInputTokens());
    ps.setLong(i++, r.outputTokens());
    ps.setLong(i++, r.reasoningTokens());
    ps.setString(i++, r.usageSource());
    ps.setBigDecimal(i++, r.costUsd());
    ps.setString(i++, r.priceVersion());
    ps.setObject(i++, Jdbc.timestamp(r.startedAt()), Types.TIMESTAMP_WITH_TIMEZONE);
    ps.setLong(i++, r.latencyMs());
    ps.setObject(i++, r.timeToFirstTokenMs(), Types.BIGINT);
    ps.setBoolean(i++, r.simulated());
    ps.setString(i++, r.traceId());
    ps.setString(i++, r.spanId());
    ps.setString(i++, r.fallbackPath());
    return i;
  }

  private static LlmCall map(ResultSet rs) throws SQLException {
    return new LlmCall(
        rs.getObject("event_id", UUID.class),
        Jdbc.instant(rs, "occurred_at"),
        rs.getObject("workflow_id", UUID.class),
        rs.getString("step_id"),
        rs.getString("agent"),
        rs.getString("conversation_id"),
        rs.getString("team"),
        rs.getString("operation"),
        rs.getString("provider"),
        rs.getString("request_model"),
        rs.getString("response_model"),
        rs.getString("status"),
        rs.getString("error_code"),
        rs.getBoolean("streamed"),
        rs.getLong("input_tokens"),
        rs.getLong("cached_input_tokens"),
        rs.getLong("output_tokens"),
        rs.getLong("reasoning_tokens"),
        rs.getString("usage_source"),
        Jdbc.money(rs, "cost_usd"),
        rs.getString("price_version"),
        Jdbc.instant(rs, "started_at"),
        rs.getLong("latency_ms"),
        Jdbc.nullableLong(rs, "time_to_first_token_ms"),
        rs.getBoolean("simulated"),
        rs.getString("trace_id"),
        rs.getString("span_id"),
        rs.getString("fallback_path"),
        Jdbc.instant(rs, "recorded_at"));
  }
}
