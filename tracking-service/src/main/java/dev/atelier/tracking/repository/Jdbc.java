package dev.atelier.tracking.repository;

import dev.atelier.kit.problem.ProblemException;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;

/** Conversions between JDBC and the API's types, shared by the repositories. */
final class Jdbc {

  private Jdbc() {}

  /** JDBC work that may fail with an {@link SQLException}. */
  @FunctionalInterface
  interface SqlWork<T> {
    T run() throws SQLException;
  }

  /** Runs {@code work}, turning an {@link SQLException} into a {@link DataAccessException}. */
  static <T> T unchecked(String what, SqlWork<T> work) {
    try {
      return work.run();
    } catch (SQLException e) {
      throw new DataAccessException(what + " failed: " + e.getMessage(), e);
    }
  }

  /** Reading that may fail with an {@link SQLException} or {@code E}. */
  @FunctionalInterface
  interface CursorRead<T, E extends Exception> {
    T read() throws SQLException, E;
  }

  /** Rows fetched per round trip by a read through a server-side cursor. */
  static final int FETCH_SIZE = 1000;

  /**
   * Runs {@code read} in a read-only transaction of its own on {@code c}, so that statements with a
   * fetch size ({@link #FETCH_SIZE}) read through a server-side cursor (autocommit off) and memory
   * stays flat however many rows match; then ends the transaction and restores autocommit.
   */
  static <T, E extends Exception> T withCursor(Connection c, CursorRead<T, E> read)
      throws SQLException, E {
    boolean autoCommit = c.getAutoCommit();
    c.setAutoCommit(false);
    try {
      return read.read();
    } finally {
      // Read-only: nothing to commit; end the transaction that holds the cursor.
      c.rollback();
      c.setAutoCommit(autoCommit);
    }
  }

  /**
   * Like {@link #unchecked} for a query a person waits for, prepared with {@link #timed}: a query
   * cancelled at its timeout is a 503 {@code query-timeout} naming the limit.
   */
  static <T> T answered(String what, Duration timeout, SqlWork<T> work) {
    try {
      return work.run();
    } catch (SQLException e) {
      if (QUERY_CANCELED.equals(e.getSQLState())) {
        throw new ProblemException(
            503,
            "query-timeout",
            "Query timeout",
            what
                + " ran past "
                + timeout.toSeconds()
                + " s (tracking.query.timeout) and was cancelled: narrow the range or filter by"
                + " workflowId, or ask for percentiles=false");
      }
      throw new DataAccessException(what + " failed: " + e.getMessage(), e);
    }
  }

  /** A statement the database cancels after {@code timeout} (whole seconds, at least one). */
  static PreparedStatement timed(Connection c, String sql, Duration timeout) throws SQLException {
    PreparedStatement ps = c.prepareStatement(sql);
    ps.setQueryTimeout((int) Math.max(1, Math.min(timeout.toSeconds(), Integer.MAX_VALUE)));
    return ps;
  }

  /** SQLSTATE of a statement cancelled (by its timeout, here). */
  private static final String QUERY_CANCELED = "57014";

  static OffsetDateTime timestamp(Instant instant) {
    return instant == null ? null : OffsetDateTime.ofInstant(instant, ZoneOffset.UTC);
  }

  static Instant instant(ResultSet rs, String column) throws SQLException {
    OffsetDateTime t = rs.getObject(column, OffsetDateTime.class);
    return t == null ? null : t.toInstant();
  }

  static Long nullableLong(ResultSet rs, String column) throws SQLException {
    long value = rs.getLong(column);
    return rs.wasNull() ? null : value;
  }

  static Double nullableDouble(ResultSet rs, String column) throws SQLException {
    double value = rs.getDouble(column);
    return rs.wasNull() ? null : value;
  }

  /** The column's exact value without the trailing zeros its scale adds. */
  static BigDecimal money(ResultSet rs, String column) throws SQLException {
    BigDecimal value = rs.getBigDecimal(column);
    return value == null ? null : value.stripTrailingZeros();
  }

  /** Binds positional parameters; {@link Instant}s become {@code timestamptz}. */
  static void bind(PreparedStatement ps, List<?> params) throws SQLException {
    for (int i = 0; i < params.size(); i++) {
      Object p = params.get(i);
      ps.setObject(i + 1, p instanceof Instant t ? timestamp(t) : p);
    }
  }
}
