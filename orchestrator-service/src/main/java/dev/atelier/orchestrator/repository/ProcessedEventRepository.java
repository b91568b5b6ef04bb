package dev.atelier.orchestrator.repository;

import jakarta.inject.Singleton;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Collection;
import java.util.HashSet;
import java.util.Set;
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

  /**
   * Records the ids in the current transaction, in id order (concurrent batches that share ids wait
   * for each other in the same order), and returns those not recorded before.
   */
  public Set<UUID> markProcessedAll(Collection<UUID> eventIds) {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "insert into processed_event (event_id) select id from unnest(?::uuid[]) as id"
                    + " order by id on conflict do nothing returning event_id")) {
      ps.setArray(1, c.createArrayOf("uuid", eventIds.toArray()));
      Set<UUID> recorded = new HashSet<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          recorded.add(rs.getObject(1, UUID.class));
        }
      }
      return recorded;
    } catch (SQLException e) {
      throw Sql.failure("cannot record " + eventIds.size() + " events", e);
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
