package dev.atelier.tracking.repository;

import java.util.Arrays;

/**
 * A histogram of milliseconds with logarithmic buckets (as in DDSketch), so that any percentile
 * read from it is within {@link #RELATIVE_ERROR} of a real value at that rank, whatever the
 * distribution, and histograms of different batches and days add up exactly. Bucket 0 holds 0 ms;
 * bucket {@code i >= 1} holds {@code (G^(i-2), G^(i-1)]} ms, with {@code G = 2^(1/8)} (the growth
 * factor of Prometheus' native histograms at their default schema 3): 8 buckets per doubling,
 * within 4.3 %. The daily rollup stores it packed, one int8 per non-empty bucket: {@code (bucket <<
 * 32) | count}, sorted by bucket (see migration V8, whose {@code ledger_hist_add} merges two of
 * them); a count is at most 2^32 - 1 per bucket and rollup row (a day of one team, agent, provider
 * and model).
 *
 * <p>The resolution is a trade: a 30-day report by model reads every daily row's histogram (5,280
 * rows in the 10M-row benchmark); at 2 % (G = 1.04) that was 76 buckets per row and 140 ms.
 */
public final class LatencySketch {

  /** The ratio between a bucket's bounds: 2^(1/8). */
  static final double G = Math.pow(2, 1.0 / 8);

  /** Largest relative distance between a bucket's representative value and any value in it. */
  public static final double RELATIVE_ERROR = (G - 1) / (G + 1);

  // ln(2) / 8, computed as backfill-daily-histograms.sql does, so both find the same buckets.
  private static final double LOG_G = Math.log(2) / 8;
  private static final long COUNT_MASK = 0xFFFF_FFFFL;

  // Dense counts by bucket, grown as needed: 8 buckets per doubling make about 250 for any latency
  // that fits in an int of milliseconds, and adding is an array increment (a report merges
  // hundreds of thousands of packed buckets).
  private long[] counts = new long[128];
  private long total;

  static int bucket(long ms) {
    return ms <= 0 ? 0 : (int) Math.ceil(Math.log(ms) / LOG_G) + 1;
  }

  /** The value a bucket stands for: the point with the same relative distance to both bounds. */
  static double value(int bucket) {
    return bucket == 0 ? 0 : 2 * Math.pow(G, bucket - 1) / (G + 1);
  }

  void add(long ms) {
    increment(bucket(ms), 1);
  }

  /** Adds a packed histogram (as stored). */
  void addPacked(Long[] packed) {
    for (Long p : packed) {
      increment((int) (p >>> 32), p & COUNT_MASK);
    }
  }

  private void increment(int bucket, long n) {
    if (bucket >= counts.length) {
      counts = Arrays.copyOf(counts, Math.max(bucket + 1, counts.length * 2));
    }
    counts[bucket] += n;
    total += n;
  }

  long total() {
    return total;
  }

  /** The packed form as a PostgreSQL array literal, e.g. {@code {4294967297,8589934594}}. */
  String packedLiteral() {
    StringBuilder s = new StringBuilder(256).append('{');
    for (int b = 0; b < counts.length; b++) {
      if (counts[b] != 0) {
        if (s.length() > 1) {
          s.append(',');
        }
        s.append(((long) b << 32) | counts[b]);
      }
    }
    return s.append('}').toString();
  }

  /**
   * The {@code q}-quantile, interpolated as PostgreSQL's {@code percentile_cont} does: between the
   * values of rank {@code floor(q * (n - 1))} and the next (0-based), each taken as its bucket's
   * value, so the result is within {@link #RELATIVE_ERROR} of the exact percentile. Taking the
   * lower rank alone put p50 of 100 ms and 10 s at 103 ms, where the exact report says 5,050 ms.
   * {@code null} when the histogram is empty.
   */
  Double quantile(double q) {
    if (total == 0) {
      return null;
    }
    double position = q * (total - 1);
    long lower = (long) Math.floor(position);
    double low = valueAtRank(lower);
    double fraction = position - lower;
    if (fraction == 0 || lower + 1 >= total) {
      return low;
    }
    return low + fraction * (valueAtRank(lower + 1) - low);
  }

  /** The value of its bucket of the value with this rank (0-based, in ascending order). */
  private double valueAtRank(long rank) {
    long seen = 0;
    int last = 0;
    for (int b = 0; b < counts.length; b++) {
      if (counts[b] != 0) {
        seen += counts[b];
        last = b;
        if (seen > rank) {
          return value(b);
        }
      }
    }
    return value(last);
  }
}
