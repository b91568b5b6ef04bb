package dev.atelier.tracking.repository;

import dev.atelier.tracking.config.TrackingConfig;
import dev.atelier.tracking.model.AgentUsage;
import dev.atelier.tracking.model.GroupBy;
import dev.atelier.tracking.model.LlmCallFilter;
import dev.atelier.tracking.model.StepUsage;
import dev.atelier.tracking.model.UsageFigures;
import dev.atelier.tracking.model.UsageGroup;
import jakarta.enterprise.context.ApplicationScoped;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import javax.sql.DataSource;
import org.postgresql.PGStatement;

/**
 * Usage aggregates, computed on the raw ledger rows or read from the hourly/daily rollups
 * maintained at ingest (same figures and meaning, a few rows per hour instead of every call);
 * percentiles from the rollups come from the daily rows' latency histograms ({@link
 * LatencySketch}).
 */
@ApplicationScoped
public class UsageRepository {

  /**
   * The figures of a group. {@code sum(cost_usd)} ignores unknown (null) costs, which are counted
   * apart; it is null only when no call of the group had a known cost.
   */
  private static final String FIGURES =
      """
      count(*) as calls,
      count(*) filter (where failed) as errors,
      coalesce(sum(input_tokens), 0) as input_tokens,
      coalesce(sum(cached_input_tokens), 0) as cached_input_tokens,
      coalesce(sum(output_tokens), 0) as output_tokens,
      coalesce(sum(reasoning_tokens), 0) as reasoning_tokens,
      sum(cost_usd) as cost_usd,
      count(*) filter (where cost_usd is null) as unknown_cost_calls,
      percentile_cont(0.5) within group (order by latency_ms) as latency_p50,
      percentile_cont(0.95) within group (order by latency_ms) as latency_p95,
      percentile_cont(0.99) within group (order by latency_ms) as latency_p99,
      avg(latency_ms)::float8 as latency_mean,
      percentile_cont(0.5) within group (order by time_to_first_token_ms) as ttft_p50,
      percentile_cont(0.95) within group (order by time_to_first_token_ms) as ttft_p95
      """;

  /** The same figures from a rollup table; percentiles need raw rows, so they are null. */
  private static final String ROLLUP_FIGURES =
      """
      sum(calls) as calls,
      sum(errors) as errors,
      sum(input_tokens) as input_tokens,
      sum(cached_input_tokens) as cached_input_tokens,
      sum(output_tokens) as output_tokens,
      sum(reasoning_tokens) as reasoning_tokens,
      sum(cost_usd) as cost_usd,
      sum(unknown_cost_calls) as unknown_cost_calls,
      null::float8 as latency_p50,
      null::float8 as latency_p95,
      null::float8 as latency_p99,
      (sum(latency_ms_sum)::float8 / sum(calls)) as latency_mean,
      null::float8 as ttft_p50,
      null::float8 as ttft_p95
      """;

  private final DataSource dataSource;
  private final LabelDictionary labels;
  private final Duration timeout;

  UsageRepository(DataSource dataSource, LabelDictionary labels, TrackingConfig config) {
    this.dataSource = dataSource;
    this.labels = labels;
    this.timeout = config.query().timeout();
  }

  /** Totals over every call that matches {@code filter}. */
  public UsageFigures totals(LlmCallFilter filter) {
    return Jdbc.answered("summing usage", timeout, () -> selectTotals(filter));
  }

  private UsageFigures selectTotals(LlmCallFilter filter) throws SQLException {
    FilterSql where = FilterSql.of(filter, labels);
    String sql = "select " + FIGURES + " from llm_call" + where.where();
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = Jdbc.timed(c, sql, timeout)) {
      Jdbc.bind(ps, where.params());
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return figures(rs);
      }
    }
  }

  /** One workflow's totals, per step (and the agent that ran it) and per agent. */
  public record WorkflowFigures(
      UsageFigures totals, List<StepUsage> steps, List<AgentUsage> agents) {}

  /**
   * One workflow's usage in one statement and one pass over its rows (grouping sets: step and
   * agent, agent, everything); steps and agents in order of first call. The totals row exists even
   * when the workflow has no call (all figures zero).
   */
  public WorkflowFigures workflow(UUID workflowId) {
    return Jdbc.unchecked("summing a workflow's usage", () -> selectWorkflow(workflowId));
  }

  private WorkflowFigures selectWorkflow(UUID workflowId) throws SQLException {
    // grouping(step_id, agent): 0 for a (step, agent) row, 2 for an agent row, 3 for the total.
    // Agents grouped on their label ids, then named (and ordered by name on ties) via the labels.
    String sql =
        "select g.step_id as step_name, a.value as agent_name, g.* from (select step_id, agent,"
            + " grouping(step_id, agent) as level, min(occurred_at) as first_call_at,"
            + " max(occurred_at) as last_call_at, "
            + FIGURES
            + " from llm_call where workflow_id = ?"
            + " group by grouping sets ((step_id, agent), (agent), ())) g"
            + " left join label a on a.id = g.agent"
            + " order by level, first_call_at, step_name nulls last, agent_name nulls last";
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setObject(1, workflowId);
      UsageFigures totals = null;
      List<StepUsage> steps = new ArrayList<>();
      List<AgentUsage> agents = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          switch (rs.getInt("level")) {
            case 0 ->
                steps.add(
                    new StepUsage(
                        rs.getString("step_name"),
                        rs.getString("agent_name"),
                        Jdbc.instant(rs, "first_call_at"),
                        Jdbc.instant(rs, "last_call_at"),
                        figures(rs)));
            case 2 ->
                agents.add(
                    new AgentUsage(
                        rs.getString("agent_name"),
                        Jdbc.instant(rs, "first_call_at"),
                        Jdbc.instant(rs, "last_call_at"),
                        figures(rs)));
            default -> totals = figures(rs);
          }
        }
      }
      return new WorkflowFigures(totals, steps, agents);
    }
  }

  /**
   * A workflow's totals and per-agent usage from the hourly rollup (no steps there; first and last
   * calls to the hour; percentiles none), for when retention has dropped its raw calls.
   */
  public WorkflowFigures workflowFromRollups(UUID workflowId) {
    String sql =
        "select agent, grouping(agent) as level, min(bucket) as first_call_at,"
            + " max(bucket) as last_call_at, "
            + ROLLUP_FIGURES
            + " from llm_usage_hourly where workflow_id = ?"
            + " group by grouping sets ((agent), ())"
            + " order by level, first_call_at, agent nulls last";
    return Jdbc.unchecked(
        "summing a workflow's usage from the rollups",
        () -> {
          try (Connection c = dataSource.getConnection();
              PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setObject(1, workflowId);
            UsageFigures totals = null;
            List<AgentUsage> agents = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                if (rs.getInt("level") == 0) {
                  agents.add(
                      new AgentUsage(
                          rs.getString("agent"),
                          Jdbc.instant(rs, "first_call_at"),
                          Jdbc.instant(rs, "last_call_at"),
                          figures(rs)));
                } else {
                  totals = figures(rs);
                }
              }
            }
            return new WorkflowFigures(totals, List.of(), agents);
          }
        });
  }

  /**
   * Usage of the calls matching {@code filter}, grouped by {@code groupBy}; at most {@code limit}
   * groups, time groups in time order and the others by calls, largest first.
   */
  public List<UsageGroup> grouped(GroupBy groupBy, LlmCallFilter filter, int limit) {
    return Jdbc.answered("grouping usage", timeout, () -> selectGrouped(groupBy, filter, limit));
  }

  private List<UsageGroup> selectGrouped(GroupBy groupBy, LlmCallFilter filter, int limit)
      throws SQLException {
    FilterSql where = FilterSql.of(filter, labels);
    boolean timeGroups = groupBy == GroupBy.DAY || groupBy == GroupBy.HOUR;
    // Text dimensions are grouped on their label ids, then named through the labels, so groups
    // order by name exactly as they did when the ledger held the text.
    boolean labelled = groupBy != GroupBy.WORKFLOW && groupBy != GroupBy.STEP && !timeGroups;
    String grouped =
        "select "
            + keyExpression(groupBy)
            + " as k, "
            + FIGURES
            + " from llm_call"
            + where.where()
            + " group by k";
    String sql =
        (labelled
                ? "select l.value as group_key, g.* from ("
                    + grouped
                    + ") g"
                    + " left join label l on l.id = g.k"
                : "select g.k as group_key, g.* from (" + grouped + ") g")
            + " order by "
            + (timeGroups ? "group_key" : "calls desc, group_key nulls last")
            + " limit "
            + limit;
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = Jdbc.timed(c, sql, timeout)) {
      Jdbc.bind(ps, where.params());
      List<UsageGroup> groups = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          groups.add(new UsageGroup(rs.getString("group_key"), figures(rs)));
        }
      }
      return groups;
    }
  }

  /**
   * Like {@link #grouped} but from a rollup table: the caller makes sure {@code filter} uses only
   * rollup dimensions and that its bounds are on {@code grain} boundaries.
   */
  public List<UsageGroup> groupedFromRollups(
      UsageRollupRepository.Grain grain, GroupBy groupBy, LlmCallFilter filter, int limit) {
    return Jdbc.answered(
        "grouping usage from rollups", timeout, () -> selectRollups(grain, groupBy, filter, limit));
  }

  private List<UsageGroup> selectRollups(
      UsageRollupRepository.Grain grain, GroupBy groupBy, LlmCallFilter filter, int limit)
      throws SQLException {
    FilterSql where = FilterSql.ofRollup(filter);
    boolean timeGroups = groupBy == GroupBy.DAY || groupBy == GroupBy.HOUR;
    String sql =
        "select "
            + rollupKeyExpression(groupBy)
            + " as group_key, "
            + ROLLUP_FIGURES
            + " from "
            + grain.table
            + where.where()
            + " group by group_key order by "
            + (timeGroups ? "group_key" : "calls desc, group_key nulls last")
            + " limit "
            + limit;
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = Jdbc.timed(c, sql, timeout)) {
      Jdbc.bind(ps, where.params());
      List<UsageGroup> groups = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          groups.add(new UsageGroup(rs.getString("group_key"), figures(rs)));
        }
      }
      return groups;
    }
  }

  /**
   * Like {@link #groupedFromRollups} for the daily rollup, with the latency and time-to-first-token
   * percentiles read from the rows' histograms (within {@link LatencySketch#RELATIVE_ERROR}), in
   * one statement (one snapshot). Empty when a row in the range has no histogram (written before
   * they existed): only the raw rows can answer then.
   */
  public Optional<List<UsageGroup>> groupedFromSketches(
      GroupBy groupBy, LlmCallFilter filter, int limit) {
    return Jdbc.answered(
        "grouping usage from the daily histograms",
        timeout,
        () -> selectSketches(groupBy, filter, limit));
  }

  private Optional<List<UsageGroup>> selectSketches(
      GroupBy groupBy, LlmCallFilter filter, int limit) throws SQLException {
    FilterSql where = FilterSql.ofRollup(filter);
    boolean timeGroups = groupBy == GroupBy.DAY || groupBy == GroupBy.HOUR;
    // The daily rows themselves, sorted by group key (so each group's rows come together, groups
    // in the database's collation): the service adds them up and merges their histograms in one
    // pass. Merging in SQL (unnest, group by bucket) took 70 ms for 30 days at 10M calls, most of
    // it unnesting ~290k buckets with a function call per row.
    String sql =
        "select "
            + rollupKeyExpression(groupBy)
            + " as group_key, calls, errors, input_tokens, cached_input_tokens, output_tokens,"
            + " reasoning_tokens, cost_usd, unknown_cost_calls, latency_ms_sum, latency_hist,"
            + " ttft_hist from "
            + UsageRollupRepository.Grain.DAY.table
            + where.where()
            + " order by group_key nulls last";
    List<Group> groups = new ArrayList<>();
    // Read through a cursor: the daily rows of a long range (histograms of ~1 kB each, never
    // trimmed) were all held by the driver at once, and a range of years could exhaust the heap.
    boolean merged;
    try (Connection c = dataSource.getConnection()) {
      merged =
          Jdbc.withCursor(
              c,
              () -> {
                try (PreparedStatement ps = Jdbc.timed(c, sql, timeout)) {
                  // Binary results from the first execution: int8[] as text costs the server
                  // formatting and the driver parsing of every bucket.
                  ps.unwrap(PGStatement.class).setPrepareThreshold(-1);
                  ps.setFetchSize(Jdbc.FETCH_SIZE);
                  Jdbc.bind(ps, where.params());
                  try (ResultSet rs = ps.executeQuery()) {
                    Group current = null;
                    while (rs.next()) {
                      String groupKey = rs.getString("group_key");
                      if (current == null || !Objects.equals(current.key(), groupKey)) {
                        current = new Group(groupKey, new RollupSums(true));
                        groups.add(current);
                      }
                      if (!current.sums().addRow(rs)) {
                        return false;
                      }
                    }
                  }
                }
                return true;
              });
    }
    if (!merged) {
      return Optional.empty();
    }
    if (!timeGroups) {
      // Largest first; a stable sort keeps ties in the database's key order, as the raw report.
      groups.sort(Comparator.comparingLong((Group g) -> g.sums().calls).reversed());
    }
    return Optional.of(
        groups.stream()
            .limit(limit)
            .map(g -> new UsageGroup(g.key(), g.sums().figures()))
            .toList());
  }

  /** One group of a report: its key and its daily rows added up. */
  private record Group(String key, RollupSums sums) {}

  private static String rollupKeyExpression(GroupBy groupBy) {
    return switch (groupBy) {
      case WORKFLOW -> "workflow_id::text";
      case AGENT -> "agent";
      case TEAM -> "team";
      case PROVIDER -> "provider";
      case MODEL -> "model";
      case HOUR -> "to_char(bucket at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24\":00Z\"')";
      case DAY -> "to_char(bucket at time zone 'UTC', 'YYYY-MM-DD')";
      case STEP -> throw new IllegalArgumentException("the rollups have no step");
    };
  }

  private static String keyExpression(GroupBy groupBy) {
    return switch (groupBy) {
      case WORKFLOW -> "workflow_id::text";
      case STEP -> "step_id";
      case AGENT -> "agent";
      case TEAM -> "team";
      case PROVIDER -> "provider";
      case MODEL -> FilterSql.MODEL;
      case HOUR -> "to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24\":00Z\"')";
      case DAY -> "to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD')";
    };
  }

  private static UsageFigures figures(ResultSet rs) throws SQLException {
    long calls = rs.getLong("calls");
    BigDecimal cost = Jdbc.money(rs, "cost_usd");
    return new UsageFigures(
        calls,
        rs.getLong("errors"),
        rs.getLong("input_tokens"),
        rs.getLong("cached_input_tokens"),
        rs.getLong("output_tokens"),
        rs.getLong("reasoning_tokens"),
        // No calls cost nothing; calls that all lack a price have an unknown cost (null).
        calls == 0 ? BigDecimal.ZERO : cost,
        rs.getLong("unknown_cost_calls"),
        Jdbc.nullableDouble(rs, "latency_p50"),
        Jdbc.nullableDouble(rs, "latency_p95"),
        Jdbc.nullableDouble(rs, "latency_p99"),
        Jdbc.nullableDouble(rs, "latency_mean"),
        Jdbc.nullableDouble(rs, "ttft_p50"),
        Jdbc.nullableDouble(rs, "ttft_p95"));
  }
}
