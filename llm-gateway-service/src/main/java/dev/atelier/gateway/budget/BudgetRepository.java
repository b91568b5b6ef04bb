package dev.atelier.gateway.budget;

import dev.atelier.contracts.BudgetThresholdCrossed;
import dev.atelier.contracts.Topology;
import dev.atelier.gateway.messaging.PendingRecordRepository;
import dev.atelier.kit.db.Plans;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import javax.sql.DataSource;

/**
 * The {@code budget}, {@code budget_spend}, {@code budget_reservation} and {@code budget_threshold}
 * tables.
 *
 * <p>Spend is kept per (budget, period start) in {@code budget_spend}; the row of a new day or
 * month is created by the first reservation in it ({@code insert ... on conflict do nothing}), so a
 * period starts at zero without any job resetting counters. Every change of spent or reserved money
 * is a relative UPDATE ({@code x = x + ?}) under the row lock, never read-modify-write in Java, so
 * no increment is lost between concurrent calls or replicas. Spend rows are always locked in budget
 * id order, so calls sharing budgets cannot deadlock.
 */
@ApplicationScoped
public class BudgetRepository {

  /** The thresholds whose first crossing in a period is announced. */
  static final int[] THRESHOLDS = {50, 80, 100};

  private static final BigDecimal HUNDRED = BigDecimal.valueOf(100);

  /** How long an expired reservation waits for its call's late settlement. */
  static final java.time.Duration EXPIRED_KEPT = java.time.Duration.ofDays(1);

  private static final String COLUMNS =
      "b.id, b.scope, b.scope_key, b.period, b.limit_usd, b.hard, b.updated_at, b.set_by";

  /** Budget columns plus the spend of the current period (parameters: day, month start). */
  private static final String WITH_SPEND =
      "select "
          + COLUMNS
          + ", coalesce(s.spent_usd, 0), coalesce(s.reserved_usd, 0) from budget b"
          + " left join budget_spend s on s.budget_id = b.id and s.period_start ="
          + " case b.period when 'day' then ?::timestamptz when 'month' then ?::timestamptz"
          + " else timestamptz '1970-01-01 00:00:00+00' end";

  private final DataSource dataSource;
  private final PendingRecordRepository outbox;

  BudgetRepository(DataSource dataSource, PendingRecordRepository outbox) {
    this.dataSource = dataSource;
    this.outbox = outbox;
  }

  /** The applicable budgets of one call. */
  public record Scope(String team, String workflowKey) {}

  /** What a settlement or an expiry changed: budgets after it and threshold events it recorded. */
  public record Settled(List<Budget> budgets, int thresholdEvents) {}

  /**
   * The budgets set through the admin API, with their spend in the period that contains {@code
   * now}: every global and team budget and the workflow budgets an admin set, but not the workflow
   * budgets callers declare, one per budgeted workflow (index {@code budget_admin_set}).
   */
  public List<Budget> findAdminSet(Instant now) throws SQLException {
    return query(
        WITH_SPEND + " where b.set_by = 'admin' order by b.scope, b.scope_key, b.period", now);
  }

  /** Where a page of budgets starts: after this scope, key and period. */
  public record After(String scope, String key, BudgetPeriod period) {}

  /**
   * A page of budgets in (scope, key, period) order, optionally of one scope and/or period, with
   * their spend in the period that contains {@code now}.
   *
   * @param after the last budget of the previous page, or null for the first page
   * @param limit at most this many
   */
  public List<Budget> page(String scope, BudgetPeriod period, After after, int limit, Instant now)
      throws SQLException {
    StringBuilder sql = new StringBuilder(WITH_SPEND).append(" where true");
    List<String> args = new ArrayList<>();
    if (scope != null) {
      sql.append(" and b.scope = ?");
      args.add(scope);
    }
    if (period != null) {
      sql.append(" and b.period = ?");
      args.add(period.label());
    }
    if (after != null) {
      // Row comparison on the unique (scope, scope_key, period) index: no offset to skip.
      sql.append(" and (b.scope, b.scope_key, b.period) > (?, ?, ?)");
      args.add(after.scope());
      args.add(after.key());
      args.add(after.period().label());
    }
    sql.append(" order by b.scope, b.scope_key, b.period limit ").append(limit);
    return query(sql.toString(), now, args.toArray(String[]::new));
  }

  /** The budgets of one scope and key (one per period). */
  public List<Budget> find(String scope, String key, Instant now) throws SQLException {
    return query(
        WITH_SPEND + " where b.scope = ? and b.scope_key = ? order by b.period", now, scope, key);
  }

  public Optional<Budget> find(String scope, String key, BudgetPeriod period, Instant now)
      throws SQLException {
    return query(
            WITH_SPEND + " where b.scope = ? and b.scope_key = ? and b.period = ?",
            now,
            scope,
            key,
            period.label())
        .stream()
        .findFirst();
  }

  /** Creates a budget or changes its limit and kind; what was spent so far is kept. */
  public Budget upsert(
      String scope, String key, BudgetPeriod period, BigDecimal limitUsd, boolean hard, Instant now)
      throws SQLException {
    // An admin's budget applies to every call in its scope, also to a workflow's calls that do not
    // declare one: it becomes the admin's even when a caller declared it first.
    String sql =
        "insert into budget (scope, scope_key, period, limit_usd, hard, set_by)"
            + " values (?, ?, ?, ?, ?, 'admin')"
            + " on conflict (scope, scope_key, period) do update set limit_usd ="
            + " excluded.limit_usd, hard = excluded.hard, set_by = 'admin', updated_at = now()";
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, scope);
      ps.setString(2, key);
      ps.setString(3, period.label());
      ps.setBigDecimal(4, limitUsd);
      ps.setBoolean(5, hard);
      ps.executeUpdate();
    }
    return find(scope, key, period, now).orElseThrow();
  }

  /** Deletes a budget with its spend history and open reservations; false when there was none. */
  public boolean delete(String scope, String key, BudgetPeriod period) throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "delete from budget where scope = ? and scope_key = ? and period = ?")) {
      ps.setString(1, scope);
      ps.setString(2, key);
      ps.setString(3, period.label());
      return ps.executeUpdate() > 0;
    }
  }

  /**
   * Reserves {@code amount} on every budget that applies to a call — the global ones, the team's
   * (each period) and the workflow's — in one transaction: either every hard budget takes it or
   * none does. Each reservation is a conditional UPDATE of the period's spend row that succeeds
   * only if the amount still fits; the row lock it takes serialises concurrent reservations on the
   * same budget and period across replicas.
   *
   * <p>A workflow limit the caller declared ({@code workflowLimit}, may be null) is written first,
   * in the same transaction, so the usual call (limit unchanged) commits once. When the call is
   * refused the whole transaction rolls back; the caller then writes the limit on its own with
   * {@link #setWorkflowLimit}, so the declaration stands either way.
   *
   * @return the budgets after the reservation (empty when none applies)
   * @throws BudgetExceededException when a hard budget cannot take the amount (all rolled back)
   */
  @Transactional(rollbackOn = Exception.class)
  public List<Budget> reserve(
      UUID callId,
      Scope scope,
      BigDecimal workflowLimit,
      BigDecimal amount,
      Instant now,
      Instant expiresAt)
      throws SQLException {
    String ensureSpend =
        "insert into budget_spend (budget_id, period_start) values (?, ?)"
            + " on conflict (budget_id, period_start) do nothing";
    String reserve =
        "update budget_spend s set reserved_usd = s.reserved_usd + ? from budget b"
            + " where b.id = s.budget_id and s.budget_id = ? and s.period_start = ?"
            + " and (not b.hard or (s.spent_usd + s.reserved_usd + ? <= b.limit_usd"
            + " and s.spent_usd < b.limit_usd))"
            + " returning s.spent_usd, s.reserved_usd, b.limit_usd";
    String remember =
        "insert into budget_reservation (call_id, budget_id, period_start, amount_usd, expires_at)"
            + " values (?, ?, ?, ?, ?)";
    List<Budget> result = new ArrayList<>();
    try (Connection c = dataSource.getConnection()) {
      if (scope.workflowKey() != null && workflowLimit != null) {
        setWorkflowLimit(c, scope.workflowKey(), scope.team(), workflowLimit);
      }
      List<Budget> budgets = applicable(c, scope, now);
      try (PreparedStatement ensure = c.prepareStatement(ensureSpend);
          PreparedStatement update = c.prepareStatement(reserve);
          PreparedStatement insert = c.prepareStatement(remember)) {
        for (Budget b : budgets) {
          OffsetDateTime start = utc(b.periodStart());
          ensure.setObject(1, b.id());
          ensure.setObject(2, start);
          ensure.executeUpdate();
          update.setBigDecimal(1, amount);
          update.setObject(2, b.id());
          update.setObject(3, start);
          update.setBigDecimal(4, amount);
          try (ResultSet rs = update.executeQuery()) {
            if (!rs.next()) {
              // Read again under the lock the failed UPDATE took, for an exact message.
              throw new BudgetExceededException(withSpend(c, b), amount);
            }
            result.add(spent(b, rs.getBigDecimal(1), rs.getBigDecimal(2), rs.getBigDecimal(3)));
          }
          insert.setObject(1, callId);
          insert.setObject(2, b.id());
          insert.setObject(3, start);
          insert.setBigDecimal(4, amount);
          insert.setObject(5, utc(expiresAt));
          insert.addBatch();
        }
        if (!budgets.isEmpty()) {
          insert.executeBatch();
        }
      }
    }
    return result;
  }

  /**
   * Settles a call: releases its reservations and adds its actual cost to the period each was made
   * in, in one transaction, so a settlement is applied exactly once (a second one finds no
   * reservation) and never partially. Thresholds the new spend reaches are recorded in the same
   * transaction, with their event in the outbox. Reservations come and go with every call, so this
   * and {@link #expire} are planned at every execution (see {@link Plans}).
   */
  @Transactional(rollbackOn = Exception.class)
  public Settled settle(UUID callId, BigDecimal actualUsd) throws SQLException {
    String sql =
        "delete from budget_reservation where call_id = ?"
            + " returning budget_id, period_start, amount_usd, expired";
    List<Charge> charges = new ArrayList<>();
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = Plans.planEachExecution(c.prepareStatement(sql))) {
      ps.setObject(1, callId);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          UUID budget = rs.getObject(1, UUID.class);
          Instant start = rs.getObject(2, OffsetDateTime.class).toInstant();
          BigDecimal amount = rs.getBigDecimal(3);
          // An expired reservation was released and charged in full already: what is left is the
          // difference to the actual cost (either way).
          charges.add(
              rs.getBoolean(4)
                  ? new Charge(budget, start, BigDecimal.ZERO, actualUsd.subtract(amount))
                  : new Charge(budget, start, amount, actualUsd));
        }
      }
      return apply(c, charges);
    }
  }

  /**
   * Releases reservations whose call was not settled in time (its replica died, the settlement
   * failed, or the call is still running) and charges them in full: the call may have been paid
   * for, so spent is never under-counted. They stay, marked expired, for a late {@link #settle} to
   * correct the charge to the actual cost; a day later, unsettled, they go.
   */
  @Transactional(rollbackOn = Exception.class)
  public Settled expire(Instant now) throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement forget =
            Plans.planEachExecution(
                c.prepareStatement(
                    "delete from budget_reservation where expired and expires_at < ?"))) {
      forget.setObject(1, utc(now.minus(EXPIRED_KEPT)));
      forget.executeUpdate();
    }
    String sql =
        "update budget_reservation set expired = true where expires_at < ? and not expired"
            + " returning budget_id, period_start, amount_usd";
    Map<String, Charge> charges = new LinkedHashMap<>();
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = Plans.planEachExecution(c.prepareStatement(sql))) {
      ps.setObject(1, utc(now));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          UUID id = rs.getObject(1, UUID.class);
          Instant start = rs.getObject(2, OffsetDateTime.class).toInstant();
          BigDecimal amount = rs.getBigDecimal(3);
          charges.merge(
              id + "|" + start,
              new Charge(id, start, amount, amount),
              (a, b) ->
                  new Charge(
                      a.budgetId(),
                      a.periodStart(),
                      a.release().add(b.release()),
                      a.cost().add(b.cost())));
        }
      }
      return apply(c, new ArrayList<>(charges.values()));
    }
  }

  private record Charge(UUID budgetId, Instant periodStart, BigDecimal release, BigDecimal cost) {}

  private Settled apply(Connection c, List<Charge> charges) throws SQLException {
    if (charges.isEmpty()) {
      return new Settled(List.of(), 0);
    }
    charges.sort(Comparator.comparing(Charge::budgetId).thenComparing(Charge::periodStart));
    String sql =
        "update budget_spend s set reserved_usd = greatest(s.reserved_usd - ?, 0),"
            + " spent_usd = s.spent_usd + ? from budget b"
            + " where b.id = s.budget_id and s.budget_id = ? and s.period_start = ?"
            + " returning "
            + COLUMNS
            + ", s.spent_usd, s.reserved_usd";
    List<Budget> after = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      for (Charge charge : charges) {
        ps.setBigDecimal(1, charge.release());
        ps.setBigDecimal(2, charge.cost());
        ps.setObject(3, charge.budgetId());
        ps.setObject(4, utc(charge.periodStart()));
        try (ResultSet rs = ps.executeQuery()) {
          if (rs.next()) {
            after.add(budget(rs, charge.periodStart()));
          }
        }
      }
    }
    return new Settled(after, recordThresholds(c, after));
  }

  /**
   * Records each threshold a budget's settled spend has reached in its period, once: the first
   * settlement to reach it inserts the row and queues the event; later ones find the row.
   */
  private int recordThresholds(Connection c, List<Budget> budgets) throws SQLException {
    String sql =
        "insert into budget_threshold (budget_id, period_start, percent, spent_usd)"
            + " values (?, ?, ?, ?) on conflict do nothing";
    List<PendingRecordRepository.Pending> events = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      for (Budget b : budgets) {
        for (int percent : THRESHOLDS) {
          BigDecimal mark = b.limitUsd().multiply(BigDecimal.valueOf(percent)).divide(HUNDRED);
          if (b.spentUsd().signum() <= 0 || b.spentUsd().compareTo(mark) < 0) {
            continue;
          }
          ps.setObject(1, b.id());
          ps.setObject(2, utc(b.periodStart()));
          ps.setInt(3, percent);
          ps.setBigDecimal(4, b.spentUsd());
          if (ps.executeUpdate() == 1) {
            events.add(
                new PendingRecordRepository.Pending(
                    Topology.BUDGET_EVENTS_EXCHANGE,
                    Topology.budgetRoutingKey(b.scope(), percent),
                    event(b, percent),
                    Map.of()));
          }
        }
      }
    }
    if (!events.isEmpty()) {
      outbox.insert(events, null);
    }
    return events.size();
  }

  private static BudgetThresholdCrossed event(Budget b, int percent) {
    return new BudgetThresholdCrossed(
        BudgetThresholdCrossed.eventIdFor(b.id(), b.periodStart(), percent),
        BudgetThresholdCrossed.TYPE,
        Instant.now(),
        Budget.WORKFLOW.equals(b.scope()) ? UUID.fromString(b.key()) : null,
        b.id(),
        b.scope(),
        b.key(),
        b.period().label(),
        b.periodStart(),
        percent,
        b.limitUsd().stripTrailingZeros(),
        b.spentUsd().stripTrailingZeros(),
        b.hard());
  }

  /**
   * Creates a workflow's hard budget with {@code limit}, or changes its limit to it (the caller
   * raised the budget of a retried workflow), committed on its own. {@link #reserve} does the same
   * inside its transaction; this is for a call that was refused, so that the caller's declaration
   * stands even then.
   */
  public void setWorkflowLimit(String workflowKey, String team, BigDecimal limit)
      throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      setWorkflowLimit(c, workflowKey, team, limit);
    }
  }

  private static void setWorkflowLimit(
      Connection c, String workflowKey, String team, BigDecimal limit) throws SQLException {
    // Only a different limit is written: the usual call repeats the limit and changes nothing.
    // A caller's declaration never takes a budget from an admin: set_by stays as it is, and so
    // does its owner (none). Nor from another team: a budget another team declared is left as it
    // is (applicable() refuses the call); a caller's budget no team owns yet (declared before
    // owners were kept) becomes this team's.
    String sql =
        "insert into budget (scope, scope_key, period, limit_usd, hard, set_by, team)"
            + " values ('workflow', ?, 'total', ?, true, 'caller', ?)"
            + " on conflict (scope, scope_key, period) do update set limit_usd = excluded.limit_usd,"
            + " team = case when budget.set_by = 'caller' then excluded.team end,"
            + " updated_at = now()"
            + " where (budget.team is null or budget.team = excluded.team)"
            + " and (budget.limit_usd <> excluded.limit_usd"
            + " or (budget.team is null and budget.set_by = 'caller'))";
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, workflowKey);
      ps.setBigDecimal(2, limit);
      ps.setString(3, team);
      ps.executeUpdate();
    }
  }

  /**
   * The budgets that apply to a call of {@code scope}.
   *
   * @throws WorkflowNotAllowedException when the workflow's budget was declared by another team
   */
  private static List<Budget> applicable(Connection c, Scope scope, Instant now)
      throws SQLException {
    String sql =
        "select "
            + COLUMNS
            + ", b.team from budget b where b.scope = 'global' or (b.scope = 'team' and b.scope_key = ?)"
            + " or (b.scope = 'workflow' and b.scope_key = ?) order by b.id";
    List<Budget> found = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, scope.team());
      ps.setString(2, scope.workflowKey());
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          String owner = rs.getString(9);
          if (Budget.WORKFLOW.equals(rs.getString(2))
              && owner != null
              && !owner.equals(scope.team())) {
            throw new WorkflowNotAllowedException(rs.getString(3));
          }
          BudgetPeriod period = BudgetPeriod.parse(rs.getString(4)).orElseThrow();
          found.add(
              new Budget(
                  rs.getObject(1, UUID.class),
                  rs.getString(2),
                  rs.getString(3),
                  period,
                  rs.getBigDecimal(5),
                  rs.getBoolean(6),
                  period.start(now),
                  BigDecimal.ZERO,
                  BigDecimal.ZERO,
                  rs.getObject(7, OffsetDateTime.class).toInstant(),
                  rs.getString(8)));
        }
      }
    }
    return found;
  }

  /** {@code b} with the spend of its period as it is now. */
  private static Budget withSpend(Connection c, Budget b) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "select s.spent_usd, s.reserved_usd, b.limit_usd from budget_spend s"
                + " join budget b on b.id = s.budget_id"
                + " where s.budget_id = ? and s.period_start = ?")) {
      ps.setObject(1, b.id());
      ps.setObject(2, utc(b.periodStart()));
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next()
            ? spent(b, rs.getBigDecimal(1), rs.getBigDecimal(2), rs.getBigDecimal(3))
            : b;
      }
    }
  }

  private static Budget spent(Budget b, BigDecimal spent, BigDecimal reserved, BigDecimal limit) {
    return new Budget(
        b.id(),
        b.scope(),
        b.key(),
        b.period(),
        limit,
        b.hard(),
        b.periodStart(),
        spent,
        reserved,
        b.updatedAt(),
        b.setBy());
  }

  private List<Budget> query(String sql, Instant now, String... args) throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setObject(1, utc(BudgetPeriod.DAY.start(now)));
      ps.setObject(2, utc(BudgetPeriod.MONTH.start(now)));
      for (int i = 0; i < args.length; i++) {
        ps.setString(i + 3, args[i]);
      }
      List<Budget> found = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          found.add(budget(rs, BudgetPeriod.parse(rs.getString(4)).orElseThrow().start(now)));
        }
      }
      return found;
    }
  }

  /** A row of {@link #COLUMNS} followed by spent and reserved. */
  private static Budget budget(ResultSet rs, Instant periodStart) throws SQLException {
    return new Budget(
        rs.getObject(1, UUID.class),
        rs.getString(2),
        rs.getString(3),
        BudgetPeriod.parse(rs.getString(4)).orElseThrow(),
        rs.getBigDecimal(5),
        rs.getBoolean(6),
        periodStart,
        rs.getBigDecimal(9),
        rs.getBigDecimal(10),
        rs.getObject(7, OffsetDateTime.class).toInstant(),
        rs.getString(8));
  }

  private static OffsetDateTime utc(Instant instant) {
    return instant.atOffset(ZoneOffset.UTC);
  }
}
