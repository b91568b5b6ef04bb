package dev.atelier.tracking.repository;

import dev.atelier.contracts.LlmCallRecorded;
import dev.atelier.tracking.model.UsageFigures;
import java.math.BigDecimal;
import java.sql.Array;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * The figures of one rollup row: summed from calls at ingest ({@link #add(LlmCallRecorded)}), and
 * summed from daily rows when a report merges their histograms ({@link #addRow}).
 */
final class RollupSums {
  long calls;
  long errors;
  long input;
  long cached;
  long output;
  long reasoning;

  /** Exact sum of the known costs; null while no call had one. */
  BigDecimal cost;

  long unknownCost;
  long latency;

  /** Null when the rollup keeps no histograms. */
  final LatencySketch latencySketch;

  final LatencySketch ttftSketch;

  RollupSums(boolean sketches) {
    latencySketch = sketches ? new LatencySketch() : null;
    ttftSketch = sketches ? new LatencySketch() : null;
  }

  void add(LlmCallRecorded r) {
    calls++;
    errors += LlmCallRecorded.STATUS_ERROR.equals(r.status()) ? 1 : 0;
    input += r.inputTokens();
    cached += r.cachedInputTokens();
    output += r.outputTokens();
    reasoning += r.reasoningTokens();
    addCost(r.costUsd());
    if (r.costUsd() == null) {
      unknownCost++;
    }
    latency += r.latencyMs();
    if (latencySketch != null) {
      latencySketch.add(r.latencyMs());
      if (r.timeToFirstTokenMs() != null) {
        ttftSketch.add(r.timeToFirstTokenMs());
      }
    }
  }

  /**
   * Adds one daily rollup row (its sums and histograms).
   *
   * @return false when the row has no histograms (written before they existed)
   */
  boolean addRow(ResultSet rs) throws SQLException {
    Array latencyHist = rs.getArray("latency_hist");
    Array ttftHist = rs.getArray("ttft_hist");
    if (latencyHist == null || ttftHist == null) {
      return false;
    }
    latencySketch.addPacked((Long[]) latencyHist.getArray());
    ttftSketch.addPacked((Long[]) ttftHist.getArray());
    calls += rs.getLong("calls");
    errors += rs.getLong("errors");
    input += rs.getLong("input_tokens");
    cached += rs.getLong("cached_input_tokens");
    output += rs.getLong("output_tokens");
    reasoning += rs.getLong("reasoning_tokens");
    addCost(rs.getBigDecimal("cost_usd"));
    unknownCost += rs.getLong("unknown_cost_calls");
    latency += rs.getLong("latency_ms_sum");
    return true;
  }

  private void addCost(BigDecimal known) {
    if (known != null) {
      cost = cost == null ? known : cost.add(known);
    }
  }

  /**
   * The report figures, percentiles from the histograms; as a SQL-summed rollup report has them.
   */
  UsageFigures figures() {
    return new UsageFigures(
        calls,
        errors,
        input,
        cached,
        output,
        reasoning,
        // No calls cost nothing; calls that all lack a price have an unknown cost (null).
        calls == 0 ? BigDecimal.ZERO : cost == null ? null : cost.stripTrailingZeros(),
        unknownCost,
        latencySketch.quantile(0.5),
        latencySketch.quantile(0.95),
        latencySketch.quantile(0.99),
        calls == 0 ? null : (double) latency / calls,
        ttftSketch.quantile(0.5),
        ttftSketch.quantile(0.95));
  }
}
