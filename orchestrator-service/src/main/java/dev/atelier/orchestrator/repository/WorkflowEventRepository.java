package dev.atelier.orchestrator.repository;

import dev.atelier.orchestrator.model.ProgressEvent;
import dev.atelier.orchestrator.model.WorkflowStatus;
import jakarta.inject.Singleton;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import javax.sql.DataSource;

/**
 * The per-workflow progress log. Appends happen under the workflow's row lock (every state change
 * holds it), so numbering by {@code max(seq) + 1} cannot race.
 */
@Singleton
public class WorkflowEventRepository {

  private final DataSource dataSource;
  private final JsonColumns json;

  WorkflowEventRepository(DataSource dataSource, JsonColumns json) {
    this.dataSource = dataSource;
    this.json = json;
  }

  /**
   * Appends the events in order, numbered after the last one, in one statement; their {@code seq}
   * is assigned here (the given one is ignored).
   */
  public void append(UUID workflowId, List<ProgressEvent> events) {
    if (events.isEmpty()) {
      return;
    }
    String sql =
        "insert into workflow_event (workflow_id, seq, type, data, created_at)"
            + " select ?, last.seq + e.ord, e.type, e.data::jsonb, e.at::timestamptz"
            + " from (select coalesce(max(seq), 0) as seq from workflow_event"
            + " where workflow_id = ?) last,"
            + " unnest(?::text[], ?::text[], ?::text[]) with ordinality as e(type, data, at, ord)";
    String[] types = new String[events.size()];
    String[] data = new String[events.size()];
    String[] at = new String[events.size()];
    for (int i = 0; i < events.size(); i++) {
      ProgressEvent e = events.get(i);
      types[i] = e.type();
      data[i] = json.write(e);
      at[i] = e.at().toString();
    }
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setObject(1, workflowId);
      ps.setObject(2, workflowId);
      ps.setArray(3, c.createArrayOf("text", types));
      ps.setArray(4, c.createArrayOf("text", data));
      ps.setArray(5, c.createArrayOf("text", at));
      ps.executeUpdate();
    } catch (SQLException e) {
      throw Sql.failure("cannot log progress of workflow " + workflowId, e);
    }
  }

  /**
   * Whether nothing can follow {@code seq} in the workflow's log: the workflow has ended (or is
   * gone) and its last event is at or before {@code seq}. One statement, so the status and the last
   * event are read together (a workflow's final event is logged with its status change).
   */
  public boolean endedBy(UUID workflowId, long seq) {
    String sql =
        "select w.status, (select max(e.seq) from workflow_event e where e.workflow_id = w.id)"
            + " as last_seq from workflow w where w.id = ?";
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setObject(1, workflowId);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return true;
        }
        return WorkflowStatus.of(rs.getString("status")).isTerminal()
            && rs.getLong("last_seq") <= seq;
      }
    } catch (SQLException e) {
      throw Sql.failure("cannot read progress of workflow " + workflowId, e);
    }
  }

  /** The id of the workflow's last logged event; 0 when none. */
  public long lastSeq(UUID workflowId) {
    String sql = "select coalesce(max(seq), 0) from workflow_event where workflow_id = ?";
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setObject(1, workflowId);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    } catch (SQLException e) {
      throw Sql.failure("cannot read progress of workflow " + workflowId, e);
    }
  }

  /** Up to {@code limit} events after {@code afterSeq}, in order. */
  public List<ProgressEvent> after(UUID workflowId, long afterSeq, int limit) {
    String sql =
        "select seq, data::text as data from workflow_event where workflow_id = ? and seq > ?"
            + " order by seq limit ?";
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setObject(1, workflowId);
      ps.setLong(2, afterSeq);
      ps.setInt(3, limit);
      List<ProgressEvent> result = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          ProgressEvent stored = json.read(rs.getString("data"), ProgressEvent.class);
          long seq = rs.getLong("seq");
          result.add(
              new ProgressEvent(
                  seq,
                  stored.type(),
                  stored.workflowId(),
                  stored.status(),
                  stored.stepKey(),
                  stored.stepId(),
                  stored.attempt(),
                  stored.errorCode(),
                  stored.message(),
                  stored.usage(),
                  stored.budgetUsd(),
                  stored.spentUsd(),
                  stored.at()));
        }
      }
      return result;
    } catch (SQLException e) {
      throw Sql.failure("cannot read progress of workflow " + workflowId, e);
    }
  }
}
