package dev.atelier.tracking.repository;

import jakarta.enterprise.context.ApplicationScoped;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.sql.DataSource;

/**
 * DDL for the monthly partitions of {@code llm_call} (UTC months). Every method must run inside the
 * caller's transaction, which {@link #lock()} serialises across replicas.
 */
@ApplicationScoped
public class LedgerPartitions {

  private static final DateTimeFormatter SUFFIX = DateTimeFormatter.ofPattern("yyyy_MM");
  private static final DateTimeFormatter BOUND =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ssxxx").withZone(ZoneOffset.UTC);

  private static final Pattern MONTHLY = Pattern.compile("llm_call_p(\\d{4}_\\d{2})");

  private final DataSource dataSource;

  LedgerPartitions(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  /** The partition holding {@code month}'s calls, e.g. {@code llm_call_p2025_01}. */
  public static String name(YearMonth month) {
    return "llm_call_p" + SUFFIX.format(month);
  }

  /** Held until the transaction ends, so two replicas never create the same partition at once. */
  public void lock() {
    Jdbc.unchecked("locking partition maintenance", this::takeLock);
  }

  private Void takeLock() throws SQLException {
    try (Connection c = dataSource.getConnection();
        Statement st = c.createStatement()) {
      st.execute("select pg_advisory_xact_lock(hashtext('atelier.tracking.llm_call.partitions'))");
    }
    return null;
  }

  public boolean exists(YearMonth month) {
    return Jdbc.unchecked("looking up partition " + name(month), () -> lookUp(month));
  }

  private boolean lookUp(YearMonth month) throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement("select to_regclass(?) is not null")) {
      ps.setString(1, name(month));
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getBoolean(1);
      }
    }
  }

  /**
   * Creates {@code month}'s partition. Rows of that month already in the default partition (a
   * record that arrived before its month had a partition) are moved into it: PostgreSQL refuses to
   * create a partition whose range the default partition still holds rows for.
   *
   * <p>Creating it takes an exclusive lock on {@code llm_call} and its default partition, which
   * waits for every open reader (a CSV export's cursor) while every insert queues behind it: it
   * waits at most {@code lockTimeoutMs}, then fails (SQLSTATE 55P03) and the caller retries later.
   * Must run in a transaction: the timeout is local to it.
   *
   * @return how many rows were moved out of the default partition
   */
  public int create(YearMonth month, long lockTimeoutMs) {
    return Jdbc.unchecked(
        "creating partition " + name(month), () -> createPartition(month, lockTimeoutMs));
  }

  private int createPartition(YearMonth month, long lockTimeoutMs) throws SQLException {
    Instant from = month.atDay(1).atStartOfDay(ZoneOffset.UTC).toInstant();
    Instant to = month.plusMonths(1).atDay(1).atStartOfDay(ZoneOffset.UTC).toInstant();
    // DDL takes no bind parameters; the name and bounds are formatted from a YearMonth, never from
    // input.
    String createPartition =
        "create table "
            + name(month)
            + " partition of llm_call for values from ('"
            + BOUND.format(from)
            + "') to ('"
            + BOUND.format(to)
            + "')";
    try (Connection c = dataSource.getConnection();
        Statement st = c.createStatement()) {
      st.execute("set local lock_timeout = " + lockTimeoutMs);
      if (!defaultHoldsRows(c, from, to)) {
        st.execute(createPartition);
        return 0;
      }
      st.execute("create temp table llm_call_moving (like llm_call) on commit drop");
      try (PreparedStatement move =
          c.prepareStatement(
              "with moved as (delete from llm_call_default"
                  + " where occurred_at >= ? and occurred_at < ? returning *)"
                  + " insert into llm_call_moving select * from moved")) {
        move.setObject(1, Jdbc.timestamp(from));
        move.setObject(2, Jdbc.timestamp(to));
        move.executeUpdate();
      }
      st.execute(createPartition);
      int moved = st.executeUpdate("insert into llm_call select * from llm_call_moving");
      st.execute("drop table llm_call_moving");
      return moved;
    }
  }

  private static boolean defaultHoldsRows(Connection c, Instant from, Instant to)
      throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "select exists (select 1 from llm_call_default"
                + " where occurred_at >= ? and occurred_at < ?)")) {
      ps.setObject(1, Jdbc.timestamp(from));
      ps.setObject(2, Jdbc.timestamp(to));
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getBoolean(1);
      }
    }
  }

  /** The months that have a partition, oldest first. */
  public List<YearMonth> months() {
    return Jdbc.unchecked("listing ledger partitions", this::listMonths);
  }

  private List<YearMonth> listMonths() throws SQLException {
    List<YearMonth> months = new ArrayList<>();
    try (Connection c = dataSource.getConnection();
        Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                "select k.relname from pg_inherits i join pg_class k on k.oid = i.inhrelid"
                    + " where i.inhparent = 'llm_call'::regclass order by k.relname")) {
      while (rs.next()) {
        Matcher m = MONTHLY.matcher(rs.getString(1));
        if (m.matches()) {
          try {
            months.add(YearMonth.parse(m.group(1), SUFFIX));
          } catch (DateTimeParseException e) {
            // Not one of ours; leave it alone.
          }
        }
      }
    }
    return months;
  }

  /**
   * Drops {@code month}'s partition, waiting at most {@code lockTimeoutMs} for the short exclusive
   * lock PostgreSQL takes on {@code llm_call} to do so (a concurrent insert holds a weaker lock for
   * the length of its transaction). Must run in a transaction: the timeout is local to it.
   */
  public void drop(YearMonth month, long lockTimeoutMs) {
    Jdbc.unchecked(
        "dropping partition " + name(month),
        () -> {
          try (Connection c = dataSource.getConnection();
              Statement st = c.createStatement()) {
            st.execute("set local lock_timeout = " + lockTimeoutMs);
            st.execute("drop table if exists " + name(month));
          }
          return null;
        });
  }

  /** Deletes rows older than {@code cutoff} that sit in the default partition (rare strays). */
  public int deleteFromDefaultBefore(Instant cutoff) {
    return Jdbc.unchecked(
        "trimming the default partition",
        () -> {
          try (Connection c = dataSource.getConnection();
              PreparedStatement ps =
                  c.prepareStatement("delete from llm_call_default where occurred_at < ?")) {
            ps.setObject(1, Jdbc.timestamp(cutoff));
            return ps.executeUpdate();
          }
        });
  }
}
