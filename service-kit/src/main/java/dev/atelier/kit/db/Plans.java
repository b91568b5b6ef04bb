package dev.atelier.kit.db;

import java.sql.PreparedStatement;
import java.sql.SQLException;
import org.postgresql.PGStatement;

/**
 * Query plans for statements over tables whose size swings, such as an outbox or a spool: rows come
 * and go all the time, so the table is a few pages one minute and, with its dead rows, a few
 * thousand the next.
 *
 * <p>The JDBC driver turns a statement into a server-side prepared statement after a few
 * executions, and PostgreSQL then settles on a generic plan for it, made once from the table's size
 * at that moment and kept for the connection's life (until the table's statistics change, which
 * never happens where autovacuum is off and can take minutes where it is on). A plan made while the
 * table was nearly empty is a sequential scan, and the same statement then reads the whole bloated
 * table at every execution: in the end-to-end benchmark the outbox relay's {@code delete ... where
 * id = any(?)} scanned 4,000 pages per batch and was the busiest statement of the database.
 */
public final class Plans {

  private Plans() {}

  /**
   * Makes PostgreSQL plan the statement for its actual parameters and the table's current size at
   * every execution: it is sent unnamed, never prepared on the server. Costs a parse and a plan per
   * execution (tens of microseconds for a short statement); use it for statements whose best plan
   * changes with the table's size, not by default. A statement that is not PostgreSQL's (another
   * driver, a wrapper that does not unwrap) is returned as it is: it then runs as before, rather
   * than the outbox relay failing on a setting.
   *
   * @return the statement, for chaining
   */
  public static PreparedStatement planEachExecution(PreparedStatement ps) throws SQLException {
    if (ps.isWrapperFor(PGStatement.class)) {
      ps.unwrap(PGStatement.class).setPrepareThreshold(0);
    }
    return ps;
  }
}
