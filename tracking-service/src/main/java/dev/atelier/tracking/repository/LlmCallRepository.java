package dev.atelier.tracking.repository;

import dev.atelier.contracts.LlmCallRecorded;
import dev.atelier.tracking.config.TrackingConfig;
import dev.atelier.tracking.model.LlmCall;
import dev.atelier.tracking.model.LlmCallFilter;
import dev.atelier.tracking.model.PageCursor;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
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

  /**
   * One statement per batch, whatever its size: every column travels as one array parameter and
   * {@code unnest} turns the arrays back into rows (in array order, i.e. event-id order). The SQL
   * text never changes, so the server plans it once per connection, and there is no 65,535
   * bind-parameter limit to chunk around. Times travel as int8 arrays of Unix microseconds (binary,
   * exact at the column's precision, and neither formatted here nor parsed by the server), counts
   * and label ids as int4 arrays, flags as bool arrays; UUIDs and costs as text arrays (exact;
   * parsed by the server: the driver has no binary encoding for uuid or numeric arrays).
   */
  /**
   * The timestamp of {@code micros} Unix microseconds, in SQL. Whole seconds and the rest apart: a
   * product of microseconds and an interval is computed in float8 and rounds past 2^53 (after
   * 2255-06-05), where 9999-12-31T23:59:59.999999Z became year 10000.
   */
  static String timestampOfMicros(String micros) {
    return "timestamptz 'epoch' + ("
        + micros
        + " / 1000000) * interval '1 second' + ("
        + micros
        + " % 1000000) * interval '1 microsecond'";
  }

  private static final String INSERT =
      """
      insert into llm_call (event_id, workflow_id, occurred_at, started_at, input_tokens,
          cached_input_tokens, output_tokens, reasoning_tokens, latency_ms, time_to_first_token_ms,
          event_type, operation, provider, agent, team, request_model, response_model,
          error_code, usage_source, price_version, fallback_path, failed, streamed, simulated,
          cost_usd, conversation_id, trace_id, span_id, step_id)
      select event_id, workflow_id,
          %s,
          %s,
          input_tokens, cached_input_tokens, output_tokens, reasoning_tokens, latency_ms, ttft_ms,
          event_type, operation, provider, agent, team, request_model, response_model,
          error_code, usage_source, price_version, fallback_path, failed, streamed, simulated,
          cost_usd, conversation_id, trace_id, span_id, step_id
      from unnest(?::uuid[], ?::uuid[], ?::int8[], ?::int8[],
          ?::int4[], ?::int4[], ?::int4[], ?::int4[], ?::int4[], ?::int4[],
          ?::int4[], ?::int4[], ?::int4[], ?::int4[], ?::int4[], ?::int4[], ?::int4[], ?::int4[],
          ?::int4[], ?::int4[], ?::int4[],
          ?::bool[], ?::bool[], ?::bool[], ?::numeric[], ?::text[], ?::text[], ?::text[], ?::text[])
          as u(event_id, workflow_id, occurred_us, started_us, input_tokens, cached_input_tokens,
              output_tokens, reasoning_tokens, latency_ms, ttft_ms, event_type, operation,
              provider, agent, team, request_model, response_model, error_code, usage_source,
              price_version, fallback_path, failed, streamed, simulated, cost_usd,
              conversation_id, trace_id, span_id, step_id)
      on conflict (event_id, occurred_at) do nothing
      returning event_id
      """
          .formatted(timestampOfMicros("occurred_us"), timestampOfMicros("started_us"));

  private static final String SELECT =
      "select event_id, occurred_at, workflow_id, step_id, agent, conversation_id, team,"
          + " operation, provider, request_model, response_model, failed, error_code, streamed,"
          + " input_tokens, cached_input_tokens, output_tokens, reasoning_tokens, usage_source,"
          + " cost_usd, price_version, started_at, latency_ms, time_to_first_token_ms, simulated,"
          + " trace_id, span_id, fallback_path, recorded_at from llm_call";

  private final DataSource dataSource;
  private final LabelDictionary labels;
  private final Duration timeout;

  LlmCallRepository(DataSource dataSource, LabelDictionary labels, TrackingConfig config) {
    this.dataSource = dataSource;
    this.labels = labels;
    this.timeout = config.query().timeout();
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
    Map<String, Integer> ids = labels.idsOf(labelValues(rows));
    Set<UUID> stored = new HashSet<>();
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(INSERT)) {
      bindColumns(c, ps, rows, ids);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          stored.add(rs.getObject(1, UUID.class));
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
    return Jdbc.answered("listing LLM calls", timeout, () -> select(filter, after, limit));
  }

  private List<LlmCall> select(LlmCallFilter filter, PageCursor after, int limit)
      throws SQLException {
    FilterSql where = FilterSql.of(filter, labels);
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
        PreparedStatement ps = Jdbc.timed(c, sql, timeout)) {
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

  /**
   * Every call matching {@code filter}, newest first, handed to {@code sink} one at a time: the
   * driver reads through a server-side cursor ({@code fetchSize} needs autocommit off), so memory
   * stays flat however many rows match. Each statement in the database is cancelled past {@code
   * timeout}.
   */
  public void stream(LlmCallFilter filter, Duration timeout, RowSink<LlmCall> sink)
      throws IOException {
    FilterSql where = FilterSql.of(filter, labels);
    String sql = SELECT + where.where() + " order by occurred_at desc, event_id desc";
    try (Connection c = dataSource.getConnection()) {
      Jdbc.withCursor(
          c,
          () -> {
            // Each statement of the cursor's transaction (the query, every fetch) at most this
            // long.
            try (Statement st = c.createStatement()) {
              st.execute("set local statement_timeout = " + Math.max(1, timeout.toMillis()));
            }
            try (PreparedStatement ps = c.prepareStatement(sql)) {
              ps.setFetchSize(Jdbc.FETCH_SIZE);
              Jdbc.bind(ps, where.params());
              try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                  sink.accept(map(rs));
                }
              }
            }
            return null;
          });
    } catch (SQLException e) {
      throw new DataAccessException("streaming LLM calls failed: " + e.getMessage(), e);
    }
  }

  /** Every label value the rows use (nulls included; the dictionary skips them). */
  private static List<String> labelValues(List<LlmCallRecorded> rows) {
    List<String> values = new ArrayList<>();
    for (LlmCallRecorded r : rows) {
      Collections.addAll(values, labels(r));
    }
    return values;
  }

  /** The row's label columns, in {@link #INSERT}'s order. */
  private static String[] labels(LlmCallRecorded r) {
    return new String[] {
      r.type(),
      r.operation(),
      r.provider(),
      r.agent(),
      r.team(),
      r.requestModel(),
      r.responseModel(),
      r.errorCode(),
      r.usageSource(),
      r.priceVersion(),
      r.fallbackPath()
    };
  }

  /** Binds one array per column, in {@link #INSERT}'s order. */
  private static void bindColumns(
      Connection c, PreparedStatement ps, List<LlmCallRecorded> rows, Map<String, Integer> ids)
      throws SQLException {
    int n = rows.size();
    String[] eventId = new String[n];
    String[] workflowId = new String[n];
    Long[] occurredAt = new Long[n];
    Long[] startedAt = new Long[n];
    Integer[][] counts = new Integer[6][n];
    Integer[][] label = new Integer[11][n];
    Boolean[][] flags = new Boolean[3][n];
    String[] cost = new String[n];
    String[] conversation = new String[n];
    String[] trace = new String[n];
    String[] span = new String[n];
    String[] step = new String[n];
    for (int i = 0; i < n; i++) {
      LlmCallRecorded r = rows.get(i);
      eventId[i] = r.eventId().toString();
      workflowId[i] = r.workflowId() == null ? null : r.workflowId().toString();
      occurredAt[i] = epochMicros(r.occurredAt());
      startedAt[i] = r.startedAt() == null ? null : epochMicros(r.startedAt());
      counts[0][i] = Math.toIntExact(r.inputTokens());
      counts[1][i] = Math.toIntExact(r.cachedInputTokens());
      counts[2][i] = Math.toIntExact(r.outputTokens());
      counts[3][i] = Math.toIntExact(r.reasoningTokens());
      counts[4][i] = Math.toIntExact(r.latencyMs());
      counts[5][i] =
          r.timeToFirstTokenMs() == null ? null : Math.toIntExact(r.timeToFirstTokenMs());
      String[] values = labels(r);
      for (int k = 0; k < values.length; k++) {
        label[k][i] = values[k] == null ? null : ids.get(values[k]);
      }
      flags[0][i] = LlmCallRecorded.STATUS_ERROR.equals(r.status());
      flags[1][i] = r.streamed();
      flags[2][i] = r.simulated();
      cost[i] = r.costUsd() == null ? null : r.costUsd().toPlainString();
      conversation[i] = r.conversationId();
      trace[i] = r.traceId();
      span[i] = r.spanId();
      step[i] = r.stepId();
    }
    int p = 1;
    ps.setArray(p++, c.createArrayOf("text", eventId));
    ps.setArray(p++, c.createArrayOf("text", workflowId));
    ps.setArray(p++, c.createArrayOf("int8", occurredAt));
    ps.setArray(p++, c.createArrayOf("int8", startedAt));
    for (Integer[] column : counts) {
      ps.setArray(p++, c.createArrayOf("int4", column));
    }
    for (Integer[] column : label) {
      ps.setArray(p++, c.createArrayOf("int4", column));
    }
    for (Boolean[] column : flags) {
      ps.setArray(p++, c.createArrayOf("bool", column));
    }
    for (String[] column : List.of(cost, conversation, trace, span, step)) {
      ps.setArray(p++, c.createArrayOf("text", column));
    }
  }

  /**
   * Unix microseconds, rounded exactly as PostgreSQL rounds a timestamp's text (the fraction read
   * as a double, times 10^6, {@code rint}): the stored value is the one the text form gave, so a
   * record redelivered across this change still meets its row's key.
   */
  static long epochMicros(Instant t) {
    long fraction = (long) Math.rint(t.getNano() / 1e9 * 1e6);
    return Math.addExact(Math.multiplyExact(t.getEpochSecond(), 1_000_000L), fraction);
  }

  /** {@code t} as the ledger stores it: rounded to microseconds as {@link #epochMicros} does. */
  public static Instant storedInstant(Instant t) {
    long micros = epochMicros(t);
    return Instant.ofEpochSecond(
        Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1_000L);
  }

  private LlmCall map(ResultSet rs) throws SQLException {
    return new LlmCall(
        rs.getObject("event_id", UUID.class),
        Jdbc.instant(rs, "occurred_at"),
        rs.getObject("workflow_id", UUID.class),
        rs.getString("step_id"),
        labels.value(rs, "agent"),
        rs.getString("conversation_id"),
        labels.value(rs, "team"),
        labels.value(rs, "operation"),
        labels.value(rs, "provider"),
        labels.value(rs, "request_model"),
        labels.value(rs, "response_model"),
        rs.getBoolean("failed") ? LlmCallRecorded.STATUS_ERROR : LlmCallRecorded.STATUS_OK,
        labels.value(rs, "error_code"),
        rs.getBoolean("streamed"),
        rs.getLong("input_tokens"),
        rs.getLong("cached_input_tokens"),
        rs.getLong("output_tokens"),
        rs.getLong("reasoning_tokens"),
        labels.value(rs, "usage_source"),
        Jdbc.money(rs, "cost_usd"),
        labels.value(rs, "price_version"),
        Jdbc.instant(rs, "started_at"),
        rs.getLong("latency_ms"),
        Jdbc.nullableLong(rs, "time_to_first_token_ms"),
        rs.getBoolean("simulated"),
        rs.getString("trace_id"),
        rs.getString("span_id"),
        labels.value(rs, "fallback_path"),
        Jdbc.instant(rs, "recorded_at"));
  }
}
