package dev.atelier.orchestrator.repository;

import dev.atelier.orchestrator.model.StepRun;
import dev.atelier.orchestrator.model.StepState;
import dev.atelier.orchestrator.model.Usage;
import jakarta.inject.Singleton;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import javax.sql.DataSource;

/** Step rows. Written only by the holder of the workflow's row lock (or at its creation). */
@Singleton
public class StepRepository {

  private final DataSource dataSource;
  private final JsonColumns json;

  StepRepository(DataSource dataSource, JsonColumns json) {
    this.dataSource = dataSource;
    this.json = json;
  }

  public void insertAll(List<StepRun> steps) {
    String sql =
        "insert into workflow_step (id, workflow_id, step_key, position, role, agent_version,"
            + " state, attempt, tries, loop_count, feedback, extra_inputs, outputs, verdict,"
            + " summary, error_code, error_message, next_attempt_at, deadline_at, dispatched_at,"
            + " started_at, finished_at)"
            + " values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?::jsonb, ?, ?, ?, ?, ?, ?, ?,"
            + " ?, ?)";
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      for (StepRun s : steps) {
        ps.setObject(1, s.id());
        ps.setObject(2, s.workflowId());
        ps.setString(3, s.key());
        ps.setInt(4, s.position());
        ps.setString(5, s.role());
        ps.setInt(6, s.agentVersion());
        bindMutable(ps, 7, s);
        ps.addBatch();
      }
      ps.executeBatch();
    } catch (SQLException e) {
      throw Sql.failure("cannot insert steps", e);
    }
  }

  /** Writes back the steps a transition changed. */
  public void updateChanged(List<StepRun> steps) {
    List<StepRun> changed = steps.stream().filter(StepRun::isChanged).toList();
    if (changed.isEmpty()) {
      return;
    }
    String sql =
        "update workflow_step set state = ?, attempt = ?, tries = ?, loop_count = ?,"
            + " feedback = ?, extra_inputs = ?::jsonb, outputs = ?::jsonb, verdict = ?,"
            + " summary = ?, error_code = ?, error_message = ?, next_attempt_at = ?,"
            + " deadline_at = ?, dispatched_at = ?, started_at = ?, finished_at = ?"
            + " where id = ?";
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      for (StepRun s : changed) {
        int next = bindMutable(ps, 1, s);
        ps.setObject(next, s.id());
        ps.addBatch();
      }
      ps.executeBatch();
    } catch (SQLException e) {
      throw Sql.failure("cannot update steps", e);
    }
  }

  private int bindMutable(PreparedStatement ps, int i, StepRun s) throws SQLException {
    ps.setString(i++, s.state().value());
    ps.setInt(i++, s.attempt());
    ps.setInt(i++, s.tries());
    ps.setInt(i++, s.loopCount());
    ps.setString(i++, s.feedback());
    ps.setString(i++, json.write(s.extraInputs()));
    ps.setString(i++, json.write(s.outputs()));
    ps.setString(i++, s.verdict());
    ps.setString(i++, s.summary());
    ps.setString(i++, s.errorCode());
    ps.setString(i++, s.errorMessage());
    ps.setObject(i++, Sql.ts(s.nextAttemptAt()));
    ps.setObject(i++, Sql.ts(s.deadlineAt()));
    ps.setObject(i++, Sql.ts(s.dispatchedAt()));
    ps.setObject(i++, Sql.ts(s.startedAt()));
    ps.setObject(i++, Sql.ts(s.finishedAt()));
    return i;
  }

  /** All steps of a workflow in definition order. */
  public List<StepRun> findByWorkflow(UUID workflowId) {
    String sql =
        "select id, workflow_id, step_key, position, role, agent_version, state, attempt, tries,"
            + " loop_count, feedback, extra_inputs::text as extra_inputs, outputs::text as outputs,"
            + " verdict, summary, error_code, error_message, next_attempt_at, deadline_at,"
            + " dispatched_at, started_at, finished_at, llm_calls, input_tokens,"
            + " cached_input_tokens, output_tokens, cost_usd, unknown_cost_calls"
            + " from workflow_step where workflow_id = ? order by position";
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setObject(1, workflowId);
      List<StepRun> result = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          result.add(
              new StepRun(
                  Sql.uuid(rs, "id"),
                  Sql.uuid(rs, "workflow_id"),
                  rs.getString("step_key"),
                  rs.getInt("position"),
                  rs.getString("role"),
                  rs.getInt("agent_version"),
                  StepState.of(rs.getString("state")),
                  rs.getInt("attempt"),
                  rs.getInt("tries"),
                  rs.getInt("loop_count"),
                  rs.getString("feedback"),
                  json.refs(rs.getString("extra_inputs")),
                  json.refs(rs.getString("outputs")),
                  rs.getString("verdict"),
                  rs.getString("summary"),
                  rs.getString("error_code"),
                  rs.getString("error_message"),
                  Sql.instant(rs, "next_attempt_at"),
                  Sql.instant(rs, "deadline_at"),
                  Sql.instant(rs, "dispatched_at"),
                  Sql.instant(rs, "started_at"),
                  Sql.instant(rs, "finished_at"),
                  WorkflowRepository.usage(rs)));
        }
      }
      return result;
    } catch (SQLException e) {
      throw Sql.failure("cannot read the steps of workflow " + workflowId, e);
    }
  }

  /**
   * Running workflows with a retry due or an attempt past its deadline. Read without locks: the
   * caller locks each workflow and checks again.
   */
  public List<UUID> workflowsWithDueWork(Instant now, int limit) {
    String sql =
        "select distinct s.workflow_id from workflow_step s join workflow w on w.id = s.workflow_id"
            + " where w.status in ('running', 'waiting_approval') and ((s.state = 'retry_scheduled'"
            + " and s.next_attempt_at <= ?) or (s.state in ('dispatched', 'running')"
            + " and s.deadline_at <= ?)) limit ?";
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setObject(1, Sql.ts(now));
      ps.setObject(2, Sql.ts(now));
      ps.setInt(3, limit);
      List<UUID> result = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          result.add(Sql.uuid(rs, "workflow_id"));
        }
      }
      return result;
    } catch (SQLException e) {
      throw Sql.failure("cannot find due steps", e);
    }
  }

  /**
   * Adds LLM calls to a step's totals. The gateway's step attribution is the step id; a step key is
   * accepted too. False when no step of the workflow matches.
   */
  public boolean addUsage(UUID workflowId, String stepRef, Usage usage) {
    UUID stepId = parseUuid(stepRef);
    String match = stepId != null ? "id = ?" : "step_key = ?";
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "update workflow_step set llm_calls = llm_calls + ?,"
                    + " input_tokens = input_tokens + ?,"
                    + " cached_input_tokens = cached_input_tokens + ?,"
                    + " output_tokens = output_tokens + ?, cost_usd = cost_usd + ?,"
                    + " unknown_cost_calls = unknown_cost_calls + ?"
                    + " where workflow_id = ? and "
                    + match)) {
      WorkflowRepository.bindUsage(ps, usage);
      ps.setObject(7, workflowId);
      ps.setObject(8, stepId != null ? stepId : stepRef);
      return ps.executeUpdate() == 1;
    } catch (SQLException e) {
      throw Sql.failure("cannot add usage to step " + stepRef, e);
    }
  }

  private static UUID parseUuid(String text) {
    try {
      return UUID.fromString(text);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }
}
