package dev.atelier.orchestrator.repository;

import dev.atelier.orchestrator.model.Usage;
import dev.atelier.orchestrator.model.WorkflowRun;
import dev.atelier.orchestrator.model.WorkflowStatus;
import jakarta.inject.Singleton;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import javax.sql.DataSource;

/** Workflow rows. */
@Singleton
public class WorkflowRepository {

  /** A stored submission's identity, for idempotent resubmission. */
  public record KeyedSubmission(UUID id, String requestHash) {}

  /** Filters and position of a page of workflows, newest first. */
  public record PageQuery(
      WorkflowStatus status,
      String team,
      String definition,
      Instant createdFrom,
      Instant createdTo,
      Instant beforeCreatedAt,
      UUID beforeId,
      int limit) {}

  private static final String COLUMNS =
      "id, title, requirement, definition_name, definition_version, team, status, budget_usd,"
          + " metadata::text as metadata, trace_context::text as trace_context, trace_id,"
          + " failure_reason, budget_scope, created_at, updated_at, completed_at, llm_calls,"
          + " input_tokens, cached_input_tokens, output_tokens, cost_usd, unknown_cost_calls";

  /** Lists leave the requirement out: up to 64 KiB per row that a list does not show. */
  private static final String LIST_COLUMNS = COLUMNS.replace("requirement,", "'' as requirement,");

  private final DataSource dataSource;
  private final JsonColumns json;

  WorkflowRepository(DataSource dataSource, JsonColumns json) {
    this.dataSource = dataSource;
    this.json = json;
  }

  /**
   * Inserts a new workflow. With an idempotency key already taken, inserts nothing and returns
   * false; a concurrent submission with the same key makes this wait for its outcome.
   */
  public boolean insert(WorkflowRun w, String idempotencyKey, String requestHash) {
    String sql =
        "insert into workflow (id, title, requirement, definition_name, definition_version, team,"
            + " status, budget_usd, metadata, idempotency_key, request_hash, trace_context,"
            + " trace_id, failure_reason, created_at, updated_at, completed_at, budget_scope)"
            + " values (?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?, ?, ?::jsonb, ?, ?, ?, ?, ?, ?)"
            + " on conflict (idempotency_key) do nothing";
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setObject(1, w.id());
      ps.setString(2, w.title());
      ps.setString(3, w.requirement());
      ps.setString(4, w.definitionName());
      ps.setInt(5, w.definitionVersion());
      ps.setString(6, w.team());
      ps.setString(7, w.status().value());
      ps.setBigDecimal(8, w.budgetUsd());
      ps.setString(9, json.write(w.metadata()));
      ps.setString(10, idempotencyKey);
      ps.setString(11, requestHash);
      ps.setString(12, json.write(w.traceContext()));
      ps.setString(13, w.traceId());
      ps.setString(14, w.failureReason());
      ps.setObject(15, Sql.ts(w.createdAt()));
      ps.setObject(16, Sql.ts(w.updatedAt()));
      ps.setObject(17, Sql.ts(w.completedAt()));
      // A workflow can be stopped by its budget as it is created (a budget of 0).
      ps.setString(18, w.budgetScope());
      return ps.executeUpdate() == 1;
    } catch (SQLException e) {
      throw Sql.failure("cannot insert workflow " + w.id(), e);
    }
  }

  public Optional<KeyedSubmission> findByIdempotencyKey(String key) {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement("select id, request_hash from workflow where idempotency_key = ?")) {
      ps.setString(1, key);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next()
            ? Optional.of(new KeyedSubmission(Sql.uuid(rs, "id"), rs.getString("request_hash")))
            : Optional.empty();
      }
    } catch (SQLException e) {
      throw Sql.failure("cannot look up an idempotency key", e);
    }
  }

  /**
   * Makes the current transaction read one snapshot, without taking locks: every read that follows
   * in it sees the database as of the first. Called first in a transaction of its own (a workflow's
   * row and its steps change under one lock, but two plain reads could fall on either side of such
   * a change: a completed workflow with a step still running).
   */
  public void readOneSnapshot() {
    try (Connection c = dataSource.getConnection();
        Statement st = c.createStatement()) {
      if (c.getAutoCommit()) {
        throw new IllegalStateException("a snapshot is read in a transaction");
      }
      st.execute("set transaction isolation level repeatable read, read only");
    } catch (SQLException e) {
      throw Sql.failure("cannot start a read of one snapshot", e);
    }
  }

  public Optional<WorkflowRun> find(UUID id) {
    return one("select " + COLUMNS + " from workflow where id = ?", id);
  }

  /**
   * Locks the workflow's row until the transaction ends: every change to a workflow and its steps
   * happens under this lock, so results of parallel steps are applied one after the other.
   */
  public Optional<WorkflowRun> lock(UUID id) {
    return one("select " + COLUMNS + " from workflow where id = ? for update", id);
  }

  /** Like {@link #lock} but gives up at once when another transaction holds the lock. */
  public Optional<WorkflowRun> tryLock(UUID id) {
    return one("select " + COLUMNS + " from workflow where id = ? for update skip locked", id);
  }

  /** Writes the status and what goes with it: reason, times, the budget (raised on retry). */
  public void updateStatus(WorkflowRun w) {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "update workflow set status = ?, failure_reason = ?, updated_at = ?,"
                    + " completed_at = ?, budget_usd = ?, budget_scope = ? where id = ?")) {
      ps.setString(1, w.status().value());
      ps.setString(2, w.failureReason());
      ps.setObject(3, Sql.ts(w.updatedAt()));
      ps.setObject(4, Sql.ts(w.completedAt()));
      ps.setBigDecimal(5, w.budgetUsd());
      ps.setString(6, w.budgetScope());
      ps.setObject(7, w.id());
      ps.executeUpdate();
    } catch (SQLException e) {
      throw Sql.failure("cannot update workflow " + w.id(), e);
    }
  }

  /** Touches {@code updated_at} when steps changed but the status did not. */
  public void touch(UUID id, Instant now) {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement("update workflow set updated_at = ? where id = ?")) {
      ps.setObject(1, Sql.ts(now));
      ps.setObject(2, id);
      ps.executeUpdate();
    } catch (SQLException e) {
      throw Sql.failure("cannot update workflow " + id, e);
    }
  }

  /**
   * Adds LLM calls made for {@code team} to the workflow's totals; false when the workflow is
   * unknown or another team's.
   */
  public boolean addUsage(UUID id, String team, Usage usage) {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "update workflow set llm_calls = llm_calls + ?, input_tokens = input_tokens + ?,"
                    + " cached_input_tokens = cached_input_tokens + ?,"
                    + " output_tokens = output_tokens + ?, cost_usd = cost_usd + ?,"
                    + " unknown_cost_calls = unknown_cost_calls + ? where id = ? and team = ?")) {
      bindUsage(ps, usage);
      ps.setObject(7, id);
      ps.setString(8, team);
      return ps.executeUpdate() == 1;
    } catch (SQLException e) {
      throw Sql.failure("cannot add usage to workflow " + id, e);
    }
  }

  /** Binds {@code usage} to parameters 1 to 6 in the order of the update statements. */
  static void bindUsage(PreparedStatement ps, Usage usage) throws SQLException {
    ps.setLong(1, usage.calls());
    ps.setLong(2, usage.inputTokens());
    ps.setLong(3, usage.cachedInputTokens());
    ps.setLong(4, usage.outputTokens());
    ps.setBigDecimal(5, usage.costUsd());
    ps.setLong(6, usage.unknownCostCalls());
  }

  /** A page of workflows, newest first, after the given position. */
  public List<WorkflowRun> page(PageQuery q) {
    StringBuilder sql = new StringBuilder("select " + LIST_COLUMNS + " from workflow where true");
    List<Object> params = new ArrayList<>();
    if (q.status() != null) {
      sql.append(" and status = ?");
      params.add(q.status().value());
    }
    if (q.team() != null) {
      sql.append(" and team = ?");
      params.add(q.team());
    }
    if (q.definition() != null) {
      sql.append(" and definition_name = ?");
      params.add(q.definition());
    }
    if (q.createdFrom() != null) {
      sql.append(" and created_at >= ?");
      params.add(Sql.ts(q.createdFrom()));
    }
    if (q.createdTo() != null) {
      sql.append(" and created_at < ?");
      params.add(Sql.ts(q.createdTo()));
    }
    if (q.beforeCreatedAt() != null) {
      sql.append(" and (created_at, id) < (?, ?)");
      params.add(Sql.ts(q.beforeCreatedAt()));
      params.add(q.beforeId());
    }
    sql.append(" order by created_at desc, id desc limit ?");
    params.add(q.limit());
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(sql.toString())) {
      for (int i = 0; i < params.size(); i++) {
        ps.setObject(i + 1, params.get(i));
      }
      List<WorkflowRun> result = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          result.add(map(rs));
        }
      }
      return result;
    } catch (SQLException e) {
      throw Sql.failure("cannot list workflows", e);
    }
  }

  private Optional<WorkflowRun> one(String sql, UUID id) {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setObject(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(map(rs)) : Optional.empty();
      }
    } catch (SQLException e) {
      throw Sql.failure("cannot read workflow " + id, e);
    }
  }

  private WorkflowRun map(ResultSet rs) throws SQLException {
    return new WorkflowRun(
        Sql.uuid(rs, "id"),
        rs.getString("title"),
        rs.getString("requirement"),
        rs.getString("definition_name"),
        rs.getInt("definition_version"),
        rs.getString("team"),
        WorkflowStatus.of(rs.getString("status")),
        rs.getBigDecimal("budget_usd"),
        json.stringMap(rs.getString("metadata")),
        json.stringMap(rs.getString("trace_context")),
        rs.getString("trace_id"),
        rs.getString("failure_reason"),
        rs.getString("budget_scope"),
        Sql.instant(rs, "created_at"),
        Sql.instant(rs, "updated_at"),
        Sql.instant(rs, "completed_at"),
        usage(rs));
  }

  static Usage usage(ResultSet rs) throws SQLException {
    return new Usage(
        rs.getLong("llm_calls"),
        rs.getLong("input_tokens"),
        rs.getLong("cached_input_tokens"),
        rs.getLong("output_tokens"),
        rs.getBigDecimal("cost_usd"),
        rs.getLong("unknown_cost_calls"));
  }
}
