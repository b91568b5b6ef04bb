package dev.atelier.tracking.repository;

import dev.atelier.contracts.BudgetThresholdCrossed;
import dev.atelier.tracking.model.BudgetEvent;
import dev.atelier.tracking.model.BudgetEventFilter;
import dev.atelier.tracking.model.PageCursor;
import jakarta.enterprise.context.ApplicationScoped;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import javax.sql.DataSource;

/** The {@code budget_event} table: threshold crossings, stored once per event id. */
@ApplicationScoped
public class BudgetEventRepository {

  private static final String SELECT =
      "select event_id, occurred_at, workflow_id, budget_id, scope, scope_key, period,"
          + " period_start, threshold_percent, limit_usd, spent_usd, hard, recorded_at"
          + " from budget_event";

  private final DataSource dataSource;

  BudgetEventRepository(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  /**
   * Stores the event unless one with its id is there already.
   *
   * @return false for a duplicate, which changes nothing
   */
  public boolean insert(BudgetThresholdCrossed e) {
    return Jdbc.unchecked(
        "storing a budget event",
        () -> {
          try (Connection c = dataSource.getConnection();
              PreparedStatement ps =
                  c.prepareStatement(
                      "insert into budget_event (event_id, occurred_at, workflow_id, budget_id,"
                          + " scope, scope_key, period, period_start, threshold_percent,"
                          + " limit_usd, spent_usd, hard)"
                          + " values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                          + " on conflict (event_id) do nothing")) {
            ps.setObject(1, e.eventId());
            ps.setObject(2, Jdbc.timestamp(e.occurredAt()));
            ps.setObject(3, e.workflowId(), Types.OTHER);
            ps.setObject(4, e.budgetId());
            ps.setString(5, e.scope());
            ps.setString(6, e.scopeKey());
            ps.setString(7, e.period());
            ps.setObject(8, Jdbc.timestamp(e.periodStart()));
            ps.setInt(9, e.thresholdPercent());
            ps.setBigDecimal(10, e.limitUsd());
            ps.setBigDecimal(11, e.spentUsd());
            ps.setBoolean(12, e.hard());
            return ps.executeUpdate() == 1;
          }
        });
  }

  /**
   * Up to {@code limit} events matching {@code filter}, newest first (ties by id, descending),
   * strictly after {@code after} when given.
   */
  public List<BudgetEvent> list(BudgetEventFilter filter, PageCursor after, int limit) {
    return Jdbc.unchecked("listing budget events", () -> select(filter, after, limit));
  }

  private List<BudgetEvent> select(BudgetEventFilter f, PageCursor after, int limit)
      throws SQLException {
    List<String> where = new ArrayList<>();
    List<Object> params = new ArrayList<>();
    if (f.scope() != null) {
      where.add("scope = ?");
      params.add(f.scope());
    }
    if (f.key() != null) {
      where.add("scope_key = ?");
      params.add(f.key());
    }
    if (f.workflowId() != null) {
      where.add("workflow_id = ?");
      params.add(f.workflowId());
    }
    if (f.from() != null) {
      where.add("occurred_at >= ?");
      params.add(f.from());
    }
    if (f.to() != null) {
      where.add("occurred_at < ?");
      params.add(f.to());
    }
    if (after != null) {
      where.add("(occurred_at, event_id) < (?, ?)");
      params.add(after.occurredAt());
      params.add(after.id());
    }
    String sql =
        SELECT
            + (where.isEmpty() ? "" : " where " + String.join(" and ", where))
            + " order by occurred_at desc, event_id desc limit "
            + limit;
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      Jdbc.bind(ps, params);
      List<BudgetEvent> events = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          events.add(
              new BudgetEvent(
                  rs.getObject("event_id", UUID.class),
                  Jdbc.instant(rs, "occurred_at"),
                  rs.getObject("workflow_id", UUID.class),
                  rs.getObject("budget_id", UUID.class),
                  rs.getString("scope"),
                  rs.getString("scope_key"),
                  rs.getString("period"),
                  Jdbc.instant(rs, "period_start"),
                  rs.getInt("threshold_percent"),
                  Jdbc.money(rs, "limit_usd"),
                  Jdbc.money(rs, "spent_usd"),
                  rs.getBoolean("hard"),
                  Jdbc.instant(rs, "recorded_at")));
        }
      }
      return events;
    }
  }
}
