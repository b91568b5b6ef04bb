package dev.atelier.tracking.repository;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class LatencySketchTest {

  @Test
  void everyValueIsWithinTheRelativeErrorOfItsBucketsValue() {
    assertThat(LatencySketch.bucket(0)).isZero();
    assertThat(LatencySketch.value(0)).isZero();
    for (long ms = 1; ms <= 3_600_000; ms = ms < 2_000 ? ms + 1 : ms + 997) {
      double v = LatencySketch.value(LatencySketch.bucket(ms));
      assertThat(Math.abs(v - ms) / ms)
          .as("%d ms", ms)
          .isLessThanOrEqualTo(LatencySketch.RELATIVE_ERROR + 1e-12);
    }
    assertThat(LatencySketch.RELATIVE_ERROR).isBetween(0.043, 0.044);
  }

  @Test
  void quantilesAreWithinTheRelativeErrorOfTheExactPercentile() {
    Random random = new Random(7);
    for (int round = 0; round < 20; round++) {
      int n = 1 + random.nextInt(3000);
      List<Long> values = new ArrayList<>();
      LatencySketch sketch = new LatencySketch();
      for (int i = 0; i < n; i++) {
        // Log-normal around 800 ms, plus a few zeros and very slow calls.
        long ms =
            i % 97 == 0
                ? 0
                : i % 89 == 0 ? 600_000 : Math.round(Math.exp(6.7 + random.nextGaussian()));
        values.add(ms);
        sketch.add(ms);
      }
      Collections.sort(values);
      assertThat(sketch.total()).isEqualTo(n);
      for (double q : new double[] {0, 0.5, 0.95, 0.99, 1}) {
        double exact = percentileCont(values, q);
        double got = sketch.quantile(q);
        assertThat(Math.abs(got - exact))
            .as("q=%s n=%d", q, n)
            .isLessThanOrEqualTo(exact * LatencySketch.RELATIVE_ERROR + 1e-9);
      }
    }
    assertThat(new LatencySketch().quantile(0.5)).isNull();
  }

  @Test
  void aFewCallsFarApartAreInterpolatedAsTheExactReportIs() {
    LatencySketch two = new LatencySketch();
    two.add(100);
    two.add(10_000);
    // percentile_cont of {100, 10000}: 5050, 9505, 9901.
    for (double[] qe : new double[][] {{0.5, 5050}, {0.95, 9505}, {0.99, 9901}}) {
      assertThat(two.quantile(qe[0]))
          .as("q=%s", qe[0])
          .isCloseTo(qe[1], org.assertj.core.data.Percentage.withPercentage(4.4));
    }
  }

  /** PostgreSQL's percentile_cont over sorted values. */
  private static double percentileCont(List<Long> sorted, double q) {
    double position = q * (sorted.size() - 1);
    int lower = (int) Math.floor(position);
    if (lower + 1 >= sorted.size()) {
      return sorted.get(lower);
    }
    return sorted.get(lower) + (position - lower) * (sorted.get(lower + 1) - sorted.get(lower));
  }

  @Test
  void packedHistogramsAddUpToTheWholeAsStoredAndMerged() {
    Random random = new Random(11);
    LatencySketch whole = new LatencySketch();
    LatencySketch merged = new LatencySketch();
    for (int part = 0; part < 5; part++) {
      LatencySketch batch = new LatencySketch();
      for (int i = 0; i < 400; i++) {
        long ms = random.nextInt(50_000);
        batch.add(ms);
        whole.add(ms);
      }
      merged.addPacked(parse(batch.packedLiteral()));
    }
    assertThat(merged.packedLiteral()).isEqualTo(whole.packedLiteral());
    assertThat(merged.total()).isEqualTo(2000);
    for (double q : new double[] {0.5, 0.95, 0.99}) {
      assertThat(merged.quantile(q)).isEqualTo(whole.quantile(q));
    }
  }

  private static Long[] parse(String literal) {
    String body = literal.substring(1, literal.length() - 1);
    return body.isEmpty()
        ? new Long[0]
        : Arrays.stream(body.split(",")).map(Long::valueOf).toArray(Long[]::new);
  }
}
