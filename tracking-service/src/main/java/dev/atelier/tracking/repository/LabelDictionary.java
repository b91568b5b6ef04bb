package dev.atelier.tracking.repository;

import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import javax.sql.DataSource;

/**
 * The {@code label} dictionary: each low-cardinality ledger string (model, agent, team, ...) stored
 * once, rows holding its integer id. Both directions are cached in memory; labels are never changed
 * or deleted, so a cached entry never goes stale.
 *
 * <p>New values are created in their own short transaction that commits at once ({@code insert ...
 * on conflict do nothing}, values sorted, then a re-select): two consumers or replicas meeting the
 * same new value get the same id whoever wins, and an id is cached only once committed, so a batch
 * that rolls back never leaves the cache pointing at a label that does not exist.
 */
@ApplicationScoped
public class LabelDictionary {

  private final DataSource dataSource;
  private final Map<String, Integer> ids = new ConcurrentHashMap<>();
  private final Map<Integer, String> values = new ConcurrentHashMap<>();

  LabelDictionary(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  /**
   * The ids of {@code wanted} (nulls ignored), creating the labels that do not exist yet. Safe to
   * call inside a transaction: creation runs in a new one.
   */
  public Map<String, Integer> idsOf(Collection<String> wanted) {
    Map<String, Integer> found = new HashMap<>();
    TreeSet<String> missing = new TreeSet<>();
    for (String v : wanted) {
      if (v == null || found.containsKey(v)) {
        continue;
      }
      Integer id = ids.get(v);
      if (id != null) {
        found.put(v, id);
      } else {
        missing.add(v);
      }
    }
    if (!missing.isEmpty()) {
      // call() returns once the new transaction has committed: only then are the ids cached.
      Map<String, Integer> created =
          QuarkusTransaction.requiringNew()
              .call(() -> Jdbc.unchecked("creating labels", () -> create(missing)));
      created.forEach((v, id) -> remember(id, v));
      found.putAll(created);
    }
    return found;
  }

  /**
   * The id of an existing label, without creating it: a filter on an unknown value matches none.
   */
  public Optional<Integer> find(String value) {
    if (value == null) {
      return Optional.empty();
    }
    Integer id = ids.get(value);
    if (id != null) {
      return Optional.of(id);
    }
    return Jdbc.unchecked(
        "reading a label",
        () -> {
          try (Connection c = dataSource.getConnection();
              PreparedStatement ps = c.prepareStatement("select id from label where value = ?")) {
            ps.setString(1, value);
            try (ResultSet rs = ps.executeQuery()) {
              if (!rs.next()) {
                return Optional.empty();
              }
              remember(rs.getInt(1), value);
              return Optional.of(rs.getInt(1));
            }
          }
        });
  }

  /**
   * The value of the label id in {@code column}, or {@code null}. One not cached yet is read on the
   * result set's own connection: a reader holding a connection that asked the pool for a second one
   * could wait for ever once every connection is held by such readers (concurrent exports after a
   * restart, when nothing is cached).
   */
  String value(ResultSet rs, String column) throws SQLException {
    int id = rs.getInt(column);
    if (rs.wasNull()) {
      return null;
    }
    String v = values.get(id);
    return v != null ? v : load(rs.getStatement().getConnection(), id);
  }

  /** The value of label {@code id}, read on {@code c} and cached. */
  String load(Connection c, int id) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("select value from label where id = ?")) {
      ps.setInt(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          throw new DataAccessException("ledger row refers to a missing label " + id, null);
        }
        remember(id, rs.getString(1));
        return rs.getString(1);
      }
    }
  }

  private Map<String, Integer> create(TreeSet<String> missing) throws SQLException {
    Map<String, Integer> created = new HashMap<>();
    try (Connection c = dataSource.getConnection()) {
      String[] array = missing.toArray(String[]::new);
      // Sorted: two transactions creating overlapping sets take the unique-index locks in the same
      // order, so they wait for each other instead of deadlocking.
      try (PreparedStatement ps =
          c.prepareStatement(
              "insert into label (value) select v from unnest(?::text[]) as v order by v"
                  + " on conflict (value) do nothing")) {
        ps.setArray(1, c.createArrayOf("text", array));
        ps.executeUpdate();
      }
      // Re-select: the values another transaction created first are not returned by the insert.
      try (PreparedStatement ps =
          c.prepareStatement("select id, value from label where value = any (?::text[])")) {
        ps.setArray(1, c.createArrayOf("text", array));
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            created.put(rs.getString(2), rs.getInt(1));
          }
        }
      }
    }
    if (created.size() != missing.size()) {
      throw new DataAccessException("labels were not created: " + missing, null);
    }
    return created;
  }

  /**
   * Entries kept in memory at most. The dictionary holds low-cardinality values (a few hundred in
   * practice); should one dimension turn out not to be, the cache is dropped and refilled on demand
   * (labels never change, so forgetting is always safe) instead of growing without bound.
   */
  static final int MAX_CACHED = 100_000;

  private void remember(int id, String value) {
    if (ids.size() >= MAX_CACHED) {
      ids.clear();
      values.clear();
    }
    ids.putIfAbsent(value, id);
    values.putIfAbsent(id, value);
  }
}
