package dev.atelier.tracking.repository;

import static org.assertj.core.api.Assertions.assertThat;

import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
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
        assertThat(b.value(idsA.get(values.get(3)))).isEqualTo(values.get(3));
        assertThat(new LabelDictionary(dataSource).find(values.get(7)))
            .contains(idsA.get(values.get(7)));
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(new LabelDictionary(dataSource).find("never-stored-" + UUID.randomUUID())).isEmpty();
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
