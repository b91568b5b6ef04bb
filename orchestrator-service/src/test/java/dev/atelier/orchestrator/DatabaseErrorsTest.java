package dev.atelier.orchestrator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.sql.BatchUpdateException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.UUID;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.postgresql.util.PSQLException;

/**
 * A failed statement's exception, which the consumers log, names the constraint but quotes no row
 * values: the pool's connections run with {@code logServerErrorDetail=false}.
 */
@QuarkusTest
class DatabaseErrorsTest {

  @Inject DataSource dataSource;

  @Test
  void aFailedBatchEntryAndADuplicateKeyQuoteNoValues() throws SQLException {
    UUID marker = UUID.randomUUID();
    String insert = "insert into processed_event (event_id) values (?)";
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(insert)) {
      c.setAutoCommit(false);
      ps.setObject(1, marker);
      ps.addBatch();
      ps.setObject(1, marker);
      ps.addBatch();

      BatchUpdateException batch =
          catchThrowableOfType(BatchUpdateException.class, ps::executeBatch);
      c.rollback();

      PSQLException cause = (PSQLException) batch.getNextException();
      assertThat(cause.getServerErrorMessage().getConstraint()).isEqualTo("processed_event_pkey");
      assertThat(describe(batch)).doesNotContain(marker.toString()).contains("<unknown>");
      assertThat(describe(cause)).doesNotContain(marker.toString()).doesNotContain("Key (");
    }
  }

  private static String describe(Throwable e) {
    return e.toString();
  }
}
