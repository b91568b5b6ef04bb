package dev.atelier.orchestrator.repository;

import jakarta.inject.Singleton;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Instant;
import java.util.UUID;
import javax.sql.DataSource;

/** Event ids already handled, the consumers' deduplication record. */
@Singleton
public class ProcessedEventRepository {

  private final DataSource dataSource;

  ProcessedEventRepository(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  /**
   * Records {@code eventId} in the current transaction. False when it was recorded before: the
   * event is a duplicate. A concurrent transaction recording the same id makes this wait for it.
   */
  public boolean markProcessed(UUID eventId) {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "insert into processed_event (event_id) values (?) on conflict do nothing")) {
      ps.setObject(1, eventId);
      return ps.executeUpdate() == 1;
    } catch (SQLException e) {
      throw Sql.failure("cannot record event " + eventId, e);
    }
  }

  public int deleteOlderThan(Instant cutoff) {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement("delete from processed_event where processed_at < ?")) {
      ps.setObject(1, Sql.ts(cutoff));
      return ps.executeUpdate();
    } catch (SQLException e) {
      throw Sql.failure("cannot purge processed events", e);
    }
  }
}
