package dev.atelier.orchestrator;

import static org.assertj.core.api.Assertions.assertThat;

import dev.atelier.contracts.StepFailed;
import dev.atelier.contracts.Topology;
import dev.atelier.orchestrator.repository.OutboxRepository;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.LongStream;
import javax.sql.DataSource;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The relay deletes what it published with a plan for the outbox as it is now. Its connection used
 * to keep the plan PostgreSQL made while the outbox was nearly empty, a sequential scan, and when
 * the outbox had grown (every published row stays behind as a dead row until a vacuum) each delete
 * read the whole table: in the end-to-end benchmark it became the database's busiest statement.
 */
@QuarkusTest
class OutboxDeletePlanTest {

  @Inject DataSource dataSource;
  @Inject OutboxRepository outbox;

  /**
   * @param analysedWhileSmall false: the outbox as the benchmark machines leave it (autovacuum off,
   *     never analysed); true: as autovacuum leaves it most of the time (analysed while nearly
   *     empty, and not again until well after it has grown)
   */
  @ParameterizedTest(name = "analysed while small: {0}")
  @ValueSource(booleans = {false, true})
  void theRelayDoesNotScanTheOutboxOnceItHasGrown(boolean analysedWhileSmall) throws Exception {
    // One transaction, so the repository works on this connection; rolled back at the end.
    QuarkusTransaction.begin();
    try (Connection c = dataSource.getConnection()) {
      // A new outbox: a temporary table of the same definition comes first in the search path of
      // this connection only.
      execute(c, "create temporary table outbox (like public.outbox including all) on commit drop");
      if (analysedWhileSmall) {
        outbox.insertAll(messages(2), Map.of());
        execute(c, "analyze outbox");
      }

      // The relay at work while the outbox is small: batches locked and deleted, more often than
      // the driver and PostgreSQL need to settle on a cached plan.
      for (int batch = 0; batch < 15; batch++) {
        outbox.insertAll(messages(10), Map.of());
        outbox.delete(outbox.lockDue(20).stream().map(OutboxRepository.Row::id).toList());
      }
      // Then the outbox grows: rows not yet published (a burst, a broker outage).
      execute(
          c,
          "insert into outbox (exchange, routing_key, event_id, event_type, body)"
              + " select 'atelier.steps', 'steps.developer', gen_random_uuid(), 'step.failed',"
              + " '\\x00'::bytea from generate_series(1, 20000)");
      assertThat(single(c, "select pg_relation_size('outbox') / 8192"))
          .as("the outbox's pages")
          .isGreaterThan(100);

      long scansBefore = sequentialScans(c);
      List<OutboxRepository.Row> due = outbox.lockDue(10);
      outbox.delete(due.stream().map(OutboxRepository.Row::id).toList());

      assertThat(sequentialScans(c))
          .as("sequential scans of the outbox by the relay")
          .isEqualTo(scansBefore);
      assertThat(due).hasSize(10);
      assertThat(single(c, "select count(*) from outbox")).isEqualTo(19990);
    } finally {
      QuarkusTransaction.rollback();
    }
  }

  private static List<OutboxRepository.Message> messages(int n) {
    List<OutboxRepository.Message> messages = new ArrayList<>();
    LongStream.range(0, n)
        .forEach(
            i ->
                messages.add(
                    new OutboxRepository.Message(
                        Topology.STEPS_EXCHANGE,
                        "steps.developer",
                        new StepFailed(
                            UUID.randomUUID(),
                            StepFailed.TYPE,
                            Instant.now(),
                            UUID.randomUUID(),
                            UUID.randomUUID(),
                            "implement",
                            "developer",
                            1,
                            "provider_unavailable",
                            "upstream 503",
                            true,
                            Instant.now()))));
    return messages;
  }

  /** This transaction's sequential scans of the temporary outbox, counted as they happen. */
  private static long sequentialScans(Connection c) throws Exception {
    return single(
        c, "select seq_scan from pg_stat_xact_all_tables where relid = 'outbox'::regclass");
  }

  private static long single(Connection c, String sql) throws Exception {
    try (PreparedStatement ps = c.prepareStatement(sql);
        ResultSet rs = ps.executeQuery()) {
      assertThat(rs.next()).isTrue();
      return rs.getLong(1);
    }
  }

  private static void execute(Connection c, String sql) throws Exception {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.execute();
    }
  }
}
