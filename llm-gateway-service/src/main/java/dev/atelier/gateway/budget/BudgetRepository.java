package dev.atelier.gateway.budget;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import javax.sql.DataSource;

/**
 * The {@code budget} and {@code budget_reservation} tables. Every change of spent or reserved money
 * is a single relative UPDATE ({@code x = x + ?}) under the row lock, never read-modify-write in
 * Java, so no increment is lost between concurrent calls or replicas.
 */
@ApplicationScoped
public class BudgetRepository {

  private static final String COLUMNS =
      "scope, scope_key, limit_usd, spent_usd, reserved_usd, hard, updated_at";

  private final DataSource dataSource;

  BudgetRepository(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  /** A budget's new remaining amount after a reservation or a settlement. */
  public record Remaining(String scope, String key, BigDecimal remainingUsd) {}

  public List<Budget> findAll() throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement("select " + COLUMNS + " from budget order by scope, scope_key");
        ResultSet rs = ps.executeQuery()) {
      List<Budget> all = new ArrayList<>();
      while (rs.next()) {
        all.add(budget(rs));
      }
      return all;
    }
  }

  public Optional<Budget> find(String scope, String key) throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "select " + COLUMNS + " from budget where scope = ? and scope_key = ?")) {
      ps.setString(1, scope);
      ps.setString(2, key);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(budget(rs)) : Optional.empty();
      }
    }
  }

  /** Creates a budget or changes its limit and kind; what was spent so far is kept. */
  public Budget upsert(String scope, String key, BigDecimal limitUsd, boolean hard)
      throws SQLException {
    String sql =
        "insert into budget (scope, scope_key, limit_usd, hard) values (?, ?, ?, ?)"
            + " on conflict (scope, scope_key) do update set limit_usd = excluded.limit_usd,"
            + " hard = excluded.hard, updated_at = now() returning "
            + COLUMNS;
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, scope);
      ps.setString(2, key);
      ps.setBigDecimal(3, limitUsd);
      ps.setBoolean(4, hard);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return budget(rs);
      }
    }
  }

  /** Deletes a budget (and its open reservations); false when there was none. */
  public boolean delete(String scope, String key) throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement("delete from budget where scope = ? and scope_key = ?")) {
      ps.setString(1, scope);
      ps.setString(2, key);
      return ps.executeUpdate() > 0;
    }
  }

  /**
   * Reserves {@code amount} on every budget of the team and of the workflow, in one transaction.
   * Each hard budget is reserved by a conditional UPDATE that succeeds only if the amount still
   * fits; the row lock it takes serialises concurrent reservations on the same budget. Rows are
   * locked in id order so two calls sharing two budgets cannot deadlock.
   *
   * @return the remaining amounts after the reservation (empty when no budget applies)
   * @throws BudgetExceededException when a hard budget cannot take the amount (all rolled back)
   */
  @Transactional
  public List<Remaining> reserve(
      UUID callId, String team, String workflowKey, BigDecimal amount, Instant expiresAt)
      throws SQLException {
    String reserve =
        "update budget set reserved_usd = reserved_usd + ?, updated_at = now()"
            + " where id = ? and (not hard or (spent_usd + reserved_usd + ? <= limit_usd"
            + " and spent_usd < limit_usd))"
            + " returning limit_usd - spent_usd - reserved_usd";
    String remember =
        "insert into budget_reservation (call_id, budget_id, amount_usd, expires_at)"
            + " values (?, ?, ?, ?)";
    List<Remaining> result = new ArrayList<>();
    try (Connection c = dataSource.getConnection();
        PreparedStatement find =
            c.prepareStatement(
                "select id, "
                    + COLUMNS
                    + " from budget where (scope = 'team' and scope_key = ?)"
                    + " or (scope = 'workflow' and scope_key = ?) order by id");
        PreparedStatement update = c.prepareStatement(reserve);
        PreparedStatement insert = c.prepareStatement(remember)) {
      find.setString(1, team);
      find.setString(2, workflowKey);
      List<UUID> ids = new ArrayList<>();
      List<Budget> budgets = new ArrayList<>();
      try (ResultSet rs = find.executeQuery()) {
        while (rs.next()) {
          ids.add(rs.getObject(1, UUID.class));
          budgets.add(budget(rs, 1));
        }
      }
      for (int i = 0; i < ids.size(); i++) {
        Budget b = budgets.get(i);
        update.setBigDecimal(1, amount);
        update.setObject(2, ids.get(i));
        update.setBigDecimal(3, amount);
        try (ResultSet rs = update.executeQuery()) {
          if (!rs.next()) {
            // Read again under the lock the failed UPDATE took, for an exact message.
            Budget now = find(c, b.scope(), b.key()).orElse(b);
            throw new BudgetExceededException(
                b.scope(), b.key(), now.limitUsd(), now.remainingUsd(), amount);
          }
          result.add(new Remaining(b.scope(), b.key(), rs.getBigDecimal(1)));
        }
        insert.setObject(1, callId);
        insert.setObject(2, ids.get(i));
        insert.setBigDecimal(3, amount);
        insert.setTimestamp(4, Timestamp.from(expiresAt));
        insert.addBatch();
      }
      if (!ids.isEmpty()) {
        insert.executeBatch();
      }
    }
    return result;
  }

  /**
   * Settles a call: releases its reservations and adds its actual cost, in one statement, so a
   * settlement is applied exactly once (a second one finds no reservation) and never partially.
   */
  public List<Remaining> settle(UUID callId, BigDecimal actualUsd) throws SQLException {
    String sql =
        "with r as (delete from budget_reservation where call_id = ?"
            + " returning budget_id, amount_usd)"
            + " update budget b set reserved_usd = greatest(b.reserved_usd - r.amount_usd, 0),"
            + " spent_usd = b.spent_usd + ?, updated_at = now() from r where b.id = r.budget_id"
            + " returning b.scope, b.scope_key, b.limit_usd - b.spent_usd - b.reserved_usd";
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setObject(1, callId);
      ps.setBigDecimal(2, actualUsd);
      return remaining(ps);
    }
  }

  /**
   * Releases reservations whose call was never settled (its replica died, or the settlement failed)
   * and charges them in full: the call may have been paid for, so spent is never under-counted.
   */
  public List<Remaining> expire(Instant now) throws SQLException {
    String sql =
        "with r as (delete from budget_reservation where expires_at < ?"
            + " returning budget_id, amount_usd),"
            + " s as (select budget_id, sum(amount_usd) amount from r group by budget_id)"
            + " update budget b set reserved_usd = greatest(b.reserved_usd - s.amount, 0),"
            + " spent_usd = b.spent_usd + s.amount, updated_at = now() from s"
            + " where b.id = s.budget_id"
            + " returning b.scope, b.scope_key, b.limit_usd - b.spent_usd - b.reserved_usd";
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setTimestamp(1, Timestamp.from(now));
      return remaining(ps);
    }
  }

  private static List<Remaining> remaining(PreparedStatement ps) throws SQLException {
    List<Remaining> out = new ArrayList<>();
    try (ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        out.add(new Remaining(rs.getString(1), rs.getString(2), rs.getBigDecimal(3)));
      }
    }
    return out;
  }

  private static Optional<Budget> find(Connection c, String scope, String key) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "select " + COLUMNS + " from budget where scope = ? and scope_key = ?")) {
      ps.setString(1, scope);
      ps.setString(2, key);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(budget(rs)) : Optional.empty();
      }
    }
  }

  private static Budget budget(ResultSet rs) throws SQLException {
    return budget(rs, 0);
  }

  private static Budget budget(ResultSet rs, int offset) throws SQLException {
    return new Budget(
        rs.getString(offset + 1),
        rs.getString(offset + 2),
        rs.getBigDecimal(offset + 3),
        rs.getBigDecimal(offset + 4),
        rs.getBigDecimal(offset + 5),
        rs.getBoolean(offset + 6),
        rs.getObject(offset + 7, OffsetDateTime.class).toInstant());
  }
}
