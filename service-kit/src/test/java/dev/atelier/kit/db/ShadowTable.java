package dev.atelier.kit.db;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * Test support for statements over tables whose size swings (see {@link Plans}): a temporary table
 * of a real table's definition, which comes first in one connection's search path until its
 * transaction ends, so a repository working on that connection works on it; and what that
 * connection's statements did to it. Use inside a transaction that is rolled back.
 */
public final class ShadowTable {

  private final Connection connection;
  private final String name;

  private ShadowTable(Connection connection, String name) {
    this.connection = connection;
    this.name = name;
  }

  /**
   * Creates the temporary {@code name}, empty and never analysed, like {@code public.name} with its
   * defaults, constraints and indexes.
   */
  public static ShadowTable of(Connection connection, String name) throws SQLException {
    ShadowTable table = new ShadowTable(connection, name);
    table.execute(
        "create temporary table "
            + name
            + " (like public."
            + name
            + " including all)"
            + " on commit drop");
    return table;
  }

  /** Takes the table's statistics as they are now, as autovacuum would. */
  public void analyse() throws SQLException {
    execute("analyze " + name);
  }

  /**
   * Adds {@code rows} rows: {@code insert into <name> (columns) select <values> from
   * generate_series(1, rows)}, {@code values} an SQL select list whose {@code ?} take {@code
   * params}.
   */
  public void fill(int rows, String columns, String values, Object... params) throws SQLException {
    execute(
        "insert into "
            + name
            + " ("
            + columns
            + ") select "
            + values
            + " from generate_series(1, "
            + rows
            + ")",
        params);
  }

  public long rows() throws SQLException {
    return single("select count(*) from " + name);
  }

  public long pages() throws SQLException {
    return single("select pg_relation_size('" + name + "') / 8192");
  }

  /** The sequential scans of the table in this transaction so far, counted as they happen. */
  public long sequentialScans() throws SQLException {
    return single(
        "select seq_scan from pg_stat_xact_all_tables where relid = '" + name + "'::regclass");
  }

  private long single(String sql) throws SQLException {
    try (PreparedStatement ps = connection.prepareStatement(sql);
        ResultSet rs = ps.executeQuery()) {
      if (!rs.next()) {
        throw new IllegalStateException("no row: " + sql);
      }
      return rs.getLong(1);
    }
  }

  private void execute(String sql, Object... params) throws SQLException {
    try (PreparedStatement ps = connection.prepareStatement(sql)) {
      for (int i = 0; i < params.length; i++) {
        ps.setObject(i + 1, params[i]);
      }
      ps.execute();
    }
  }
}
