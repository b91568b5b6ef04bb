package dev.atelier.tracking.model;

import java.time.Instant;
import java.util.List;

/**
 * Usage grouped by one dimension over {@code [from, to)}. Time groups are in time order, the others
 * by number of calls, largest first.
 *
 * @param truncated true when more groups matched than the requested limit
 * @param source where the figures came from: {@code raw} (the ledger rows), {@code rollup-hourly}
 *     or {@code rollup-daily}
 * @param percentiles how the latency and time-to-first-token percentiles were computed: {@code
 *     exact} (interpolated over the raw rows), {@code approximate} (from the daily rollup's
 *     histograms: within 4.3 % of a real value at that rank) or {@code none} (null)
 */
public record UsageReport(
    String groupBy,
    Instant from,
    Instant to,
    List<UsageGroup> groups,
    boolean truncated,
    String source,
    String percentiles) {}
