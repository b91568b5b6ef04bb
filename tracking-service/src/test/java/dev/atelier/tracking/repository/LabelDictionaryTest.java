package dev.atelier.tracking.repository;

import static org.assertj.core.api.Assertions.assertThat;

import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

/**
 * Two dictionaries with their own caches stand for two replicas: meeting the same new values at the
 * same moment, in different orders, they must agree on one id per value and create each once.
 */
@QuarkusTest
class LabelDictionaryTest {

  @Inject DataSource dataSource;

  @Test
  void twoReplicasCreatingTheSameLabelsAtOnceAgreeOnTheIds() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      for (int round = 0; round < 20; round++) {
        List<String> values = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
          values.add("race-" + round + "-" + i + "-" + UUID.randomUUID());
        }
        List<String> reversed = new ArrayList<>(values);
        Collections.reverse(reversed);
        LabelDictionary a = new LabelDictionary(dataSource);
        LabelDictionary b = new LabelDictionary(dataSource);
        CyclicBarrier start = new CyclicBarrier(2);
        Future<Map<String, Integer>> fromA =
            pool.submit(
                () -> {
                  start.await();
                  return a.idsOf(values);
                });
        Future<Map<String, Integer>> fromB =
            pool.submit(
                () -> {
                  start.await();
                  return b.idsOf(reversed);
                });
        Map<String, Integer> idsA = fromA.get();
        assertThat(idsA).hasSize(values.size()).isEqualTo(fromB.get());
        assertThat(stored(values)).isEqualTo(idsA);
        // Both directions answer from what was stored.
        try (Connection c = dataSource.getConnection()) {
          assertThat(b.load(c, idsA.get(values.get(3)))).isEqualTo(values.get(3));
        }
        assertThat(new LabelDictionary(dataSource).find(values.get(7)))
            .contains(idsA.get(values.get(7)));
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(new LabelDictionary(dataSource).find("never-stored-" + UUID.randomUUID())).isEmpty();
  }

  @Test
  void aLabelNotCachedIsReadOnTheReadersConnectionNotASecondOneFromThePool() throws Exception {
    String value = "reader-" + UUID.randomUUID();
    int id = new LabelDictionary(dataSource).idsOf(List.of(value)).get(value);
    // A pool with no connection left, as when every connection is held by a reader that needs a
    // label: before, each reader asked for a second connection and waited for one.
    DataSource exhausted =
        (DataSource)
            Proxy.newProxyInstance(
                getClass().getClassLoader(),
                new Class<?>[] {DataSource.class},
                (proxy, method, args) -> {
                  throw new SQLException("no connection left in the pool");
                });
    LabelDictionary cold = new LabelDictionary(exhausted);
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement("select ?::int as agent, null::int as team, ?::int as model")) {
      ps.setInt(1, id);
      ps.setInt(2, id);
      try (ResultSet rs = ps.executeQuery()) {
        assertThat(rs.next()).isTrue();
        assertThat(cold.value(rs, "agent")).isEqualTo(value);
        assertThat(cold.value(rs, "team")).isNull();
        // Cached now.
        assertThat(cold.value(rs, "model")).isEqualTo(value);
      }
    }
  }

  /** The labels in the table, one row per value (the unique key makes a second impossible). */
  private Map<String, Integer> stored(List<String> values) throws Exception {
    Map<String, Integer> ids = new HashMap<>();
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement("select value, id from label where value = any (?)")) {
      ps.setArray(1, c.createArrayOf("text", values.toArray()));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          assertThat(ids.put(rs.getString(1), rs.getInt(2))).isNull();
        }
      }
    }
    return ids;
  }
}
