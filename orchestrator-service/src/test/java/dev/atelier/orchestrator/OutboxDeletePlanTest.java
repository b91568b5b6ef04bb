package dev.atelier.orchestrator;

import static org.assertj.core.api.Assertions.assertThat;

import dev.atelier.kit.db.ShadowTable;
import dev.atelier.orchestrator.repository.OutboxRepository;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.sql.Connection;
import java.util.List;
import javax.sql.DataSource;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The relay locks and deletes rows with plans for the outbox as it is now. Its connection used to
 * keep the plan PostgreSQL made while the outbox was nearly empty, a sequential scan, and once the
 * outbox had grown (every published row stays behind as a dead row until a vacuum) each delete read
 * the whole table: in the end-to-end benchmark it became the database's busiest statement.
 */
@QuarkusTest
class OutboxDeletePlanTest {

  /** Rows as the relay reads them (due now), with a short body. */
  private static final String COLUMNS = "exchange, routing_key, event_id, event_type, body";

  private static final String VALUES =
      "'atelier.steps', 'steps.developer', gen_random_uuid(), 'step.failed', '\\x00'::bytea";

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
      ShadowTable shadow = ShadowTable.of(c, "outbox");
      if (analysedWhileSmall) {
        shadow.fill(2, COLUMNS, VALUES);
        shadow.analyse();
      }

      // The relay at work while the outbox is small: batches locked and deleted, more often than
      // the driver and PostgreSQL need to settle on a cached plan.
      for (int batch = 0; batch < 15; batch++) {
        shadow.fill(10, COLUMNS, VALUES);
        outbox.delete(outbox.lockDue(20).stream().map(OutboxRepository.Row::id).toList());
      }
      // Then the outbox grows: rows not yet published (a burst, a broker outage).
      shadow.fill(20000, COLUMNS, VALUES);
      assertThat(shadow.pages()).as("the outbox's pages").isGreaterThan(100);

      long scansBefore = shadow.sequentialScans();
      List<OutboxRepository.Row> due = outbox.lockDue(10);
      outbox.delete(due.stream().map(OutboxRepository.Row::id).toList());

      assertThat(shadow.sequentialScans())
          .as("sequential scans of the outbox by the relay")
          .isEqualTo(scansBefore);
      assertThat(due).hasSize(10);
      assertThat(shadow.rows()).isEqualTo(19990);
    } finally {
      QuarkusTransaction.rollback();
    }
  }
}
