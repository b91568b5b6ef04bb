package dev.atelier.tracking.repository;

import dev.atelier.contracts.LlmCallRecorded;
import jakarta.enterprise.context.ApplicationScoped;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.Function;
import javax.sql.DataSource;

/**
 * The hourly and daily usage rollups ({@code llm_usage_hourly}, {@code llm_usage_daily}). Callers
 * own the transaction: {@link #add} must run in the one that inserted the raw rows.
 */
@ApplicationScoped
public class UsageRollupRepository {

  /** The rollup tables and how a call's time maps to their bucket (UTC). */
  public enum Grain {
    HOUR("llm_usage_hourly", ChronoUnit.HOURS, true, false),
    /**
     * Without the workflow: a workflow lasts minutes, so keying days by workflow would leave the
     * daily table nearly as large as the hourly one; per-workflow figures come from the hourly one.
     */
    DAY("llm_usage_daily", ChronoUnit.DAYS, false, true);

    final String table;
    private final ChronoUnit unit;
    private final boolean byWorkflow;
    private final boolean sketches;

    Grain(String table, ChronoUnit unit, boolean byWorkflow, boolean sketches) {
      this.table = table;
      this.unit = unit;
      this.byWorkflow = byWorkflow;
      this.sketches = sketches;
    }

    /**
     * Whether rows keep latency and time-to-first-token histograms ({@link LatencySketch}), so
     * reports can have percentiles. Only the daily rollup does: the hourly one is keyed by workflow
     * (millions of rows of a few calls each), and an hour-bounded range of raw rows is small.
     */
    public boolean sketches() {
      return sketches;
    }

    /** Whether rows are kept per workflow, so reports can group or filter by it. */
    public boolean byWorkflow() {
      return byWorkflow;
    }

    public Instant bucket(Instant t) {
      return t.truncatedTo(unit);
    }

    /** Whether {@code t} is a bucket boundary, so a range bounded by it is covered exactly. */
    public boolean aligned(Instant t) {
      return t == null || bucket(t).equals(t);
    }
  }

  /** One rollup row's key. Sorted the same way by every consumer, see {@link #ORDER}. */
  record Key(
      Instant bucket, String team, UUID workflowId, String agent, String provider, String model) {}

  private static final Comparator<String> TEXT = Comparator.nullsFirst(Comparator.naturalOrder());

  /**
   * The one order in which every consumer locks rollup rows, so that two transactions touching the
   * same rows never wait for each other in a cycle.
   */
  static final Comparator<Key> ORDER =
      Comparator.comparing(Key::bucket)
          .thenComparing(Key::team, TEXT)
          .thenComparing(Key::workflowId, Comparator.nullsFirst(Comparator.naturalOrder()))
          .thenComparing(Key::agent, TEXT)
          .thenComparing(Key::provider, TEXT)
          .thenComparing(Key::model, TEXT);

  private final DataSource dataSource;

  UsageRollupRepository(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  /** Adds newly inserted calls (never duplicates) to both rollups. */
  public void add(Collection<LlmCallRecorded> inserted) {
    if (inserted.isEmpty()) {
      return;
    }
    Jdbc.unchecked(
        "updating usage rollups",
        () -> {
          for (Grain grain : Grain.values()) {
            upsert(grain, sum(grain, inserted));
          }
          return null;
        });
  }

  private static Map<Key, RollupSums> sum(Grain grain, Collection<LlmCallRecorded> calls) {
    // Summed in a hash map (a batch of 1,000 calls has a few hundred keys), sorted once after.
    Map<Key, RollupSums> sums = new HashMap<>();
    Function<LlmCallRecorded, Key> keyOf =
        r ->
            new Key(
                // The row keeps microseconds: bucket the time it has (23:59:59.9999998 is stored as
                // the next day's 00:00:00 and must be summed there).
                grain.bucket(LlmCallRepository.storedInstant(r.occurredAt())),
                r.team(),
                grain.byWorkflow ? r.workflowId() : null,
                r.agent(),
                r.provider(),
                r.responseModel() != null ? r.responseModel() : r.requestModel());
    for (LlmCallRecorded r : calls) {
      sums.computeIfAbsent(keyOf.apply(r), k -> new RollupSums(grain.sketches)).add(r);
    }
    Map<Key, RollupSums> sorted = new TreeMap<>(ORDER);
    sorted.putAll(sums);
    return sorted;
  }

  private void upsert(Grain grain, Map<Key, RollupSums> sums) throws SQLException {
    int n = sums.size();
    String[] bucket = new String[n];
    String[] team = new String[n];
    String[] workflow = new String[n];
    String[] agent = new String[n];
    String[] provider = new String[n];
    String[] model = new String[n];
    Long[][] figures = new Long[8][n];
    String[] cost = new String[n];
    String[] latencyHist = new String[n];
    String[] ttftHist = new String[n];
    int i = 0;
    for (Map.Entry<Key, RollupSums> row : sums.entrySet()) {
      Key k = row.getKey();
      RollupSums s = row.getValue();
      bucket[i] = k.bucket().toString();
      team[i] = k.team();
      workflow[i] = k.workflowId() == null ? null : k.workflowId().toString();
      agent[i] = k.agent();
      provider[i] = k.provider();
      model[i] = k.model();
      long[] f = {
        s.calls, s.errors, s.input, s.cached, s.output, s.reasoning, s.unknownCost, s.latency
      };
      for (int j = 0; j < f.length; j++) {
        figures[j][i] = f[j];
      }
      cost[i] = s.cost == null ? null : s.cost.toPlainString();
      if (grain.sketches) {
        latencyHist[i] = s.latencySketch.packedLiteral();
        ttftHist[i] = s.ttftSketch.packedLiteral();
      }
      i++;
    }
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(upsertSql(grain))) {
      int p = 1;
      for (String[] column : List.of(bucket, team, workflow, agent, provider, model)) {
        ps.setArray(p++, c.createArrayOf("text", column));
      }
      for (Long[] column : figures) {
        ps.setArray(p++, c.createArrayOf("int8", column));
      }
      ps.setArray(p++, c.createArrayOf("text", cost));
      if (grain.sketches) {
        // Each histogram travels as the text of an int8[] literal (the arrays differ in length, so
        // they cannot be one two-dimensional array) and is cast back in the statement.
        ps.setArray(p++, c.createArrayOf("text", latencyHist));
        ps.setArray(p, c.createArrayOf("text", ttftHist));
      }
      ps.executeUpdate();
    }
  }

  private static String upsertSql(Grain grain) {
    String t = grain.table;
    // One statement per table and batch, keys in the sorted order of the arrays: unnest yields
    // the rows, and so inserts and locks them, in that order.
    String columns =
        "bucket, team, workflow_id, agent, provider, model, calls, errors, input_tokens,"
            + " cached_input_tokens, output_tokens, reasoning_tokens, unknown_cost_calls,"
            + " latency_ms_sum, cost_usd";
    String arrays =
        "?::timestamptz[], ?::text[], ?::uuid[], ?::text[], ?::text[], ?::text[], ?::int8[],"
            + " ?::int8[], ?::int8[], ?::int8[], ?::int8[], ?::int8[], ?::int8[], ?::int8[],"
            + " ?::numeric[]";
    String rows =
        grain.sketches
            ? "select "
                + columns
                + ", lh::int8[], th::int8[] from unnest("
                + arrays
                + ", ?::text[], ?::text[]) as u("
                + columns
                + ", lh, th)"
            : "select * from unnest(" + arrays + ")";
    return "insert into "
        + t
        + " as t ("
        + columns
        + (grain.sketches ? ", latency_hist, ttft_hist" : "")
        + ") "
        + rows
        + " on conflict (bucket, team, workflow_id, agent, provider, model) do update set"
        + " calls = t.calls + excluded.calls,"
        + " errors = t.errors + excluded.errors,"
        + " input_tokens = t.input_tokens + excluded.input_tokens,"
        + " cached_input_tokens = t.cached_input_tokens + excluded.cached_input_tokens,"
        + " output_tokens = t.output_tokens + excluded.output_tokens,"
        + " reasoning_tokens = t.reasoning_tokens + excluded.reasoning_tokens,"
        // null + x is null: keep whichever side is known, add when both are.
        + " cost_usd = coalesce(t.cost_usd + excluded.cost_usd, t.cost_usd, excluded.cost_usd),"
        + " unknown_cost_calls = t.unknown_cost_calls + excluded.unknown_cost_calls,"
        + " latency_ms_sum = t.latency_ms_sum + excluded.latency_ms_sum"
        // Strict: a row without histograms (older than V8) stays without, see LatencySketch.
        + (grain.sketches
            ? ", latency_hist = ledger_hist_add(t.latency_hist, excluded.latency_hist),"
                + " ttft_hist = ledger_hist_add(t.ttft_hist, excluded.ttft_hist)"
            : "");
  }
}
