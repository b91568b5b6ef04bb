package dev.atelier.tracking.repository;

import dev.atelier.contracts.WorkflowStatusChanged;
import dev.atelier.tracking.model.WorkflowInfo;
import jakarta.enterprise.context.ApplicationScoped;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.Optional;
import java.util.UUID;
import javax.sql.DataSource;

/** The {@code workflow} table: each workflow's latest known status, title and team. */
@ApplicationScoped
public class WorkflowRepository {

  /*
   * One statement, so concurrent events for the same workflow cannot interleave a read and a write.
   * The where clause on the update keeps the row if it already reflects a newer (or the same)
   * event: delivery order is not event order, and a redelivery must change nothing. Two different
   * events with the very same occurredAt keep the first applied — there is no better order to
   * trust. Title, team and definition never revert to null once known.
   */
  private static final String UPSERT =
      """
      insert into workflow (workflow_id, definition, definition_version, title, team, status,
                            previous_status, reason, status_changed_at, last_event_id)
      values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      on conflict (workflow_id) do update set
          definition = coalesce(excluded.definition, workflow.definition),
          definition_version = coalesce(excluded.definition_version, workflow.definition_version),
          title = coalesce(excluded.title, workflow.title),
          team = coalesce(excluded.team, workflow.team),
          status = excluded.status,
          previous_status = excluded.previous_status,
          reason = excluded.reason,
          status_changed_at = excluded.status_changed_at,
          last_event_id = excluded.last_event_id,
          updated_at = now()
      where workflow.status_changed_at < excluded.status_changed_at
      """;

  private final DataSource dataSource;

  WorkflowRepository(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  /**
   * Records the event's status unless the row already holds a newer one.
   *
   * @return true when the row was inserted or updated
   */
  public boolean upsert(WorkflowStatusChanged e) {
    return Jdbc.unchecked("recording a workflow status", () -> write(e));
  }

  private boolean write(WorkflowStatusChanged e) throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(UPSERT)) {
      ps.setObject(1, e.workflowId());
      ps.setString(2, e.definition());
      // 0 is what an event without a definition version carries (primitive int).
      ps.setObject(3, e.definitionVersion() > 0 ? e.definitionVersion() : null, Types.INTEGER);
      ps.setString(4, e.title());
      ps.setString(5, e.team());
      ps.setString(6, e.status());
      ps.setString(7, e.previousStatus());
      ps.setString(8, e.reason());
      ps.setObject(9, Jdbc.timestamp(e.occurredAt()));
      ps.setObject(10, e.eventId());
      return ps.executeUpdate() > 0;
    }
  }

  public Optional<WorkflowInfo> find(UUID workflowId) {
    return Jdbc.unchecked("reading a workflow", () -> select(workflowId));
  }

  private Optional<WorkflowInfo> select(UUID workflowId) throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "select workflow_id, definition, definition_version, title, team, status,"
                    + " status_changed_at from workflow where workflow_id = ?")) {
      ps.setObject(1, workflowId);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return Optional.empty();
        }
        return Optional.of(
            new WorkflowInfo(
                rs.getObject("workflow_id", UUID.class),
                rs.getString("definition"),
                rs.getObject("definition_version", Integer.class),
                rs.getString("title"),
                rs.getString("team"),
                rs.getString("status"),
                Jdbc.instant(rs, "status_changed_at")));
      }
    }
  }
}
