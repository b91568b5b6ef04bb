package dev.atelier.orchestrator.repository;

import dev.atelier.contracts.AtelierEvent;
import dev.atelier.contracts.EventCodec;
import dev.atelier.contracts.StepRequested;
import dev.atelier.kit.db.Plans;
import jakarta.inject.Singleton;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import javax.sql.DataSource;

/** The transactional outbox table. */
@Singleton
public class OutboxRepository {

  /**
   * One message waiting to be published.
   *
   * @param body the encoded event as stored; null for a row written before bodies were stored
   * @param legacyPayload that older row's payload (JSON text); null when {@code body} is set
   */
  public record Row(
      long id,
      String exchange,
      String routingKey,
      UUID eventId,
      String eventType,
      UUID workflowId,
      Instant occurredAt,
      byte[] body,
      String legacyPayload,
      Map<String, String> traceHeaders,
      int publishAttempts) {}

  /** One message to write. */
  public record Message(String exchange, String routingKey, AtelierEvent event) {}

  private final DataSource dataSource;
  private final JsonColumns json;

  OutboxRepository(DataSource dataSource, JsonColumns json) {
    this.dataSource = dataSource;
    this.json = json;
  }

  /**
   * Inserts the messages, in order, as one batch: one round trip. Each event is encoded once, here.
   */
  public void insertAll(List<Message> messages, Map<String, String> traceHeaders) {
    String sql =
        "insert into outbox (exchange, routing_key, event_id, event_type, workflow_id, occurred_at,"
            + " body, trace_headers, step_id, attempt) values (?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?, ?)";
    String headers = json.write(traceHeaders);
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      for (Message m : messages) {
        AtelierEvent event = m.event();
        ps.setString(1, m.exchange());
        ps.setString(2, m.routingKey());
        ps.setObject(3, event.eventId());
        ps.setString(4, event.type());
        ps.setObject(5, event.workflowId());
        ps.setObject(6, event.occurredAt() == null ? null : Sql.ts(event.occurredAt()));
        ps.setBytes(7, EventCodec.write(event));
        ps.setString(8, headers);
        if (event instanceof StepRequested r) {
          ps.setObject(9, r.stepId());
          ps.setInt(10, r.attempt());
        } else {
          ps.setNull(9, Types.OTHER);
          ps.setNull(10, Types.INTEGER);
        }
        ps.addBatch();
      }
      ps.executeBatch();
    } catch (SQLException e) {
      throw Sql.failure("cannot write to the outbox", e);
    }
  }

  /**
   * Locks up to {@code limit} due rows, oldest first. Rows another relay holds are skipped, so
   * relays of several replicas share the work without publishing a row twice at once. Planned at
   * every execution, as {@link #delete} is.
   */
  public List<Row> lockDue(int limit) {
    String sql =
        "select id, exchange, routing_key, event_id, event_type, workflow_id, occurred_at, body,"
            + " case when body is null then payload::text end as legacy_payload,"
            + " trace_headers::text as trace_headers, publish_attempts from outbox"
            + " where next_attempt_at <= now() order by id limit ? for update skip locked";
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = Plans.planEachExecution(c.prepareStatement(sql))) {
      ps.setInt(1, limit);
      List<Row> rows = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          rows.add(
              new Row(
                  rs.getLong("id"),
                  rs.getString("exchange"),
                  rs.getString("routing_key"),
                  Sql.uuid(rs, "event_id"),
                  rs.getString("event_type"),
                  Sql.uuid(rs, "workflow_id"),
                  Sql.instant(rs, "occurred_at"),
                  rs.getBytes("body"),
                  rs.getString("legacy_payload"),
                  json.stringMap(rs.getString("trace_headers")),
                  rs.getInt("publish_attempts")));
        }
      }
      return rows;
    } catch (SQLException e) {
      throw Sql.failure("cannot read the outbox", e);
    }
  }

  /**
   * Deletes published rows. Planned at every execution (see {@link Plans}): the outbox is nearly
   * empty one moment and thousands of rows long the next (a burst, a broker outage, dead rows
   * waiting for a vacuum), and a plan cached while it was small scans all of them.
   */
  public void delete(List<Long> ids) {
    if (ids.isEmpty()) {
      return;
    }
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            Plans.planEachExecution(c.prepareStatement("delete from outbox where id = any(?)"))) {
      ps.setArray(1, c.createArrayOf("bigint", ids.toArray()));
      ps.executeUpdate();
    } catch (SQLException e) {
      throw Sql.failure("cannot delete from the outbox", e);
    }
  }

  /** Keeps a row the broker refused, to be tried again at {@code next}. */
  public void postpone(long id, Instant next, String error) {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "update outbox set publish_attempts = publish_attempts + 1, next_attempt_at = ?,"
                    + " last_error = ? where id = ?")) {
      ps.setObject(1, Sql.ts(next));
      ps.setString(2, error);
      ps.setLong(3, id);
      ps.executeUpdate();
    } catch (SQLException e) {
      throw Sql.failure("cannot postpone outbox row " + id, e);
    }
  }

  /**
   * Deletes the unsent requests of the given steps' attempts up to the given one (attempts
   * superseded by a transition), in the caller's transaction. A row a relay is publishing right now
   * is waited for (its lock) and is gone by then; its result will be ignored. Planned at every
   * execution, as {@link #delete} is.
   *
   * @param upToAttempt the last superseded attempt of each step
   */
  public int deleteUnsentRequests(UUID workflowId, Map<UUID, Integer> upToAttempt) {
    if (upToAttempt.isEmpty()) {
      return 0;
    }
    String sql =
        "delete from outbox o using unnest(?::uuid[], ?::int[]) as w(step_id, attempt)"
            + " where o.workflow_id = ? and o.step_id = w.step_id and o.attempt <= w.attempt";
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = Plans.planEachExecution(c.prepareStatement(sql))) {
      ps.setArray(1, c.createArrayOf("uuid", upToAttempt.keySet().toArray()));
      ps.setArray(2, c.createArrayOf("integer", upToAttempt.values().toArray()));
      ps.setObject(3, workflowId);
      return ps.executeUpdate();
    } catch (SQLException e) {
      throw Sql.failure("cannot delete outbox rows of workflow " + workflowId, e);
    }
  }

  /**
   * Gives the request of this attempt of a step, if it is still waiting to be sent, a new {@code
   * deadline} (in its encoded body, which the worker checks on receipt), and says whether it did. A
   * row the relay set aside as unreadable is left alone: it will never be sent.
   */
  public boolean postponeUnsentRequest(
      UUID workflowId, UUID stepId, int attempt, Instant deadline) {
    String sql =
        "update outbox set body = convert_to(jsonb_set(convert_from(body, 'UTF8')::jsonb,"
            + " '{deadline}', to_jsonb(?::text))::text, 'UTF8')"
            + " where workflow_id = ? and step_id = ? and attempt = ? and body is not null"
            + " and (last_error is null or last_error not like 'unreadable:%')";
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, deadline.toString());
      ps.setObject(2, workflowId);
      ps.setObject(3, stepId);
      ps.setInt(4, attempt);
      return ps.executeUpdate() > 0;
    } catch (SQLException e) {
      throw Sql.failure("cannot postpone a request of workflow " + workflowId, e);
    }
  }

  /**
   * Deletes the workflow's step requests not yet sent; a row a relay is publishing right now is
   * waited for (its lock), and its result will be ignored.
   */
  public int deleteUnsent(UUID workflowId, String eventType) {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement("delete from outbox where workflow_id = ? and event_type = ?")) {
      ps.setObject(1, workflowId);
      ps.setString(2, eventType);
      return ps.executeUpdate();
    } catch (SQLException e) {
      throw Sql.failure("cannot delete outbox rows of workflow " + workflowId, e);
    }
  }
}
