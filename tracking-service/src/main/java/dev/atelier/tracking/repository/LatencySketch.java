package dev.atelier.tracking.repository;

import java.util.Map;
import java.util.TreeMap;

/**
 * A histogram of milliseconds with logarithmic buckets (as in DDSketch), so that any percentile
 * read from it is within {@link #RELATIVE_ERROR} of a real value at that rank, whatever the
 * distribution, and histograms of different batches and days add up exactly. Bucket 0 holds 0 ms;
 * bucket {@code i >= 1} holds {@code (G^(i-2), G^(i-1)]} ms. The daily rollup stores it packed, one
 * int8 per non-empty bucket: {@code (bucket << 32) | count}, sorted by bucket (see migration V8,
 * whose {@code ledger_hist_add} merges two of them).
 */
public final class LatencySketch {

  /** The ratio between a bucket's bounds. */
  static final double G = 1.04;

  /** Largest relative distance between a bucket's representative value and any value in it. */
  public static final double RELATIVE_ERROR = (G - 1) / (G + 1);

  private static final double LOG_G = Math.log(G);
  private static final long COUNT_MASK = 0xFFFF_FFFFL;

  private final TreeMap<Integer, Long> counts = new TreeMap<>();
  private long total;

  static int bucket(long ms) {
    return ms <= 0 ? 0 : (int) Math.ceil(Math.log(ms) / LOG_G) + 1;
  }

  /** The value a bucket stands for: the point with the same relative distance to both bounds. */
  static double value(int bucket) {
    return bucket == 0 ? 0 : 2 * Math.pow(G, bucket - 1) / (G + 1);
  }

  void add(long ms) {
    counts.merge(bucket(ms), 1L, Long::sum);
    total++;
  }

  /** Adds a packed histogram (as stored, or as a query merged them). */
  void addPacked(Long[] packed) {
    for (Long p : packed) {
      long count = p & COUNT_MASK;
      counts.merge((int) (p >>> 32), count, Long::sum);
      total += count;
    }
  }

  long total() {
    return total;
  }

  /** The packed form as a PostgreSQL array literal, e.g. {@code {4294967297,8589934594}}. */
  String packedLiteral() {
    StringBuilder s = new StringBuilder(counts.size() * 12 + 2).append('{');
    for (Map.Entry<Integer, Long> e : counts.entrySet()) {
      if (s.length() > 1) {
        s.append(',');
      }
      s.append(((long) e.getKey() << 32) | e.getValue());
    }
    return s.append('}').toString();
  }

  /**
   * The {@code q}-quantile: the representative value of the bucket that holds the value of rank
   * {@code floor(q * (n - 1))} (0-based), i.e. within {@link #RELATIVE_ERROR} of the lower of the
   * two values that an interpolating percentile (PostgreSQL's {@code percentile_cont}) lies
   * between. {@code null} when the histogram is empty.
   */
  Double quantile(double q) {
    if (total == 0) {
      return null;
    }
    long rank = (long) Math.floor(q * (total - 1));
    long seen = 0;
    for (Map.Entry<Integer, Long> e : counts.entrySet()) {
      seen += e.getValue();
      if (seen > rank) {
        return value(e.getKey());
      }
    }
    return value(counts.lastKey());
  }
}
