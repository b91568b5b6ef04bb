package dev.atelier.tracking.repository;

import static org.assertj.core.api.Assertions.assertThat;

import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

/**
 * The ledger sends times as Unix microseconds; it used to send {@code Instant.toString()} and let
 * PostgreSQL parse it. A record stored by the old path and redelivered to the new one must meet its
 * row's key (event id, occurred_at) again, so both must give the same timestamp for every Instant,
 * including sub-microsecond fractions that PostgreSQL rounds.
 */
@QuarkusTest
class EpochMicrosTest {

  @Inject DataSource dataSource;

  @Test
  void microsecondsEqualWhatPostgresMakesOfTheTextForm() throws Exception {
    List<Instant> instants = new ArrayList<>();
    long second = Instant.parse("2026-11-30T23:59:59Z").getEpochSecond();
    // Halves and near-halves of a microsecond, the carry into the next second, whole values.
    for (int nano :
        new int[] {
          0,
          1,
          499,
          500,
          501,
          1_500,
          2_500,
          123_456_500,
          123_457_500,
          999_999_499,
          999_999_500,
          999_999_999,
          1_000,
          999_999_000
        }) {
      instants.add(Instant.ofEpochSecond(second, nano));
      instants.add(Instant.ofEpochSecond(-86_400 * 400L, nano)); // before 1970
    }
    // Past 2^53 microseconds (2255-06-05), where a float8 product of microseconds and an interval
    // rounds: the last instant the ledger accepts was stored as year 10000.
    instants.add(Instant.parse("9999-12-31T23:59:59.999999Z"));
    instants.add(Instant.ofEpochSecond(9_007_199_254L, 740_993_000));
    instants.add(Instant.parse("2255-06-05T23:47:34.740993Z"));
    SplittableRandom random = new SplittableRandom(42);
    for (int i = 0; i < 2_000; i++) {
      instants.add(
          Instant.ofEpochSecond(
              second - random.nextInt(400 * 86_400), random.nextInt(1_000_000_000)));
    }
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "select ?::text::timestamptz = "
                    + LlmCallRepository.timestampOfMicros("?::int8")
                    + ", ?::text::timestamptz")) {
      for (Instant t : instants) {
        ps.setString(1, t.toString());
        ps.setLong(2, LlmCallRepository.epochMicros(t));
        ps.setLong(3, LlmCallRepository.epochMicros(t));
        ps.setString(4, t.toString());
        try (ResultSet rs = ps.executeQuery()) {
          assertThat(rs.next()).isTrue();
          assertThat(rs.getBoolean(1)).as("%s as text gives %s", t, rs.getString(2)).isTrue();
        }
      }
    }
  }
}
