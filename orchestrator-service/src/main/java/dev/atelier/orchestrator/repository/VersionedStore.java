package dev.atelier.orchestrator.repository;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import javax.sql.DataSource;

/**
 * A table of immutable, versioned definitions ({@code name, version, definition jsonb, ...}). The
 * latest version of a name is its current one unless retired. Versions never change once written,
 * so they are cached by {@code (name, version)}, up to {@link #MAX_CACHED_CHARS} characters of
 * definitions: every PUT adds a version, and one may be up to the request body limit (1 MB). Past
 * the bound the versions used longest ago are evicted, down to three quarters of it (one scan for
 * many misses); the versions in use stay, and an evicted one is read again when asked for.
 *
 * @param <T> the definition record
 */
public abstract class VersionedStore<T> {

  /** One stored version; {@code chars}, the length of its JSON text. */
  public record Stored<T>(
      T definition,
      String name,
      int version,
      String contentHash,
      String source,
      Instant createdAt,
      Instant retiredAt,
      int chars) {

    public boolean retired() {
      return retiredAt != null;
    }
  }

  private static final String COLUMNS =
      "name, version, definition::text as definition, content_hash, source, created_at,"
          + " retired_at";

  private final DataSource dataSource;
  private final JsonColumns json;
  private final String table;
  private final Class<T> type;
  private final Map<String, Cached<T>> versions = new ConcurrentHashMap<>();

  /** Definition text cached at most (about 16 MB as strings, a few times that parsed). */
  static final long MAX_CACHED_CHARS = 8_000_000;

  /** Characters of the cached versions; guarded by {@code this}, as are evictions. */
  private long cachedChars;

  /** A cached version, its size, and when it was last asked for (a read costs no lock). */
  private static final class Cached<T> {
    final T definition;
    final int chars;
    volatile long used = System.nanoTime();

    Cached(T definition, int chars) {
      this.definition = definition;
      this.chars = chars;
    }

    T use() {
      used = System.nanoTime();
      return definition;
    }
  }

  protected VersionedStore(DataSource dataSource, JsonColumns json, String table, Class<T> type) {
    this.dataSource = dataSource;
    this.json = json;
    this.table = table;
    this.type = type;
  }

  /** The stored definition with its identity filled in from the row. */
  protected abstract T stamp(T definition, String name, int version, Instant createdAt);

  /** The latest version of {@code name}, retired or not. */
  public Optional<Stored<T>> latest(String name) {
    List<Stored<T>> rows =
        query(
            "select "
                + COLUMNS
                + " from "
                + table
                + " where name = ? order by version desc limit 1",
            name);
    return rows.stream().findFirst();
  }

  /** One exact version, retired or not. */
  public Optional<T> find(String name, int version) {
    Cached<T> cached = versions.get(name + "@" + version);
    if (cached != null) {
      return Optional.of(cached.use());
    }
    return query(
            "select " + COLUMNS + " from " + table + " where name = ? and version = ?",
            name,
            version)
        .stream()
        .findFirst()
        .map(Stored::definition);
  }

  /** The current (latest, not retired) version of every name, by name. */
  public List<Stored<T>> current() {
    return query(
        "select "
            + COLUMNS
            + " from "
            + table
            + " join "
            + latestVersions("")
            + " where retired_at is null order by name");
  }

  /**
   * The latest version of each name {@code where} selects, to join the table with: only the rows
   * joined have their definition read. ({@code distinct on (name)} over the table would turn every
   * version's definition into text to sort it: 70-100 ms against 7-12 for 1,000 versions of 19 KB.)
   */
  private String latestVersions(String where) {
    return "(select name, max(version) as version from "
        + table
        + " "
        + where
        + " group by name) latest using (name, version)";
  }

  /** The names that have a current (not retired) version, in name order; no definition is read. */
  public List<String> currentNames() {
    List<String> names = new ArrayList<>();
    currentKeys("", Integer.MAX_VALUE, names, new ArrayList<>());
    return names;
  }

  /**
   * Adds to {@code names} and {@code numbers} the name and version of at most {@code limit} current
   * versions of the names after {@code after}, in name order; no definition is read.
   */
  private void currentKeys(String after, int limit, List<String> names, List<Integer> numbers) {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "select name, version from "
                    + table
                    + " join "
                    + latestVersions("where name > ?")
                    + " where retired_at is null order by name limit ?")) {
      ps.setString(1, after);
      ps.setInt(2, limit);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          names.add(rs.getString(1));
          numbers.add(rs.getInt(2));
        }
      }
    } catch (SQLException e) {
      throw Sql.failure("cannot read " + table, e);
    }
  }

  /** A page of current versions, and the name to list after for the next (null: no more). */
  public record Page<T>(List<T> items, String nextAfter) {}

  /** Definition text one page holds at most (at least one definition, whatever its size). */
  static final long MAX_PAGE_CHARS = 4_000_000;

  /**
   * The current (latest, not retired) versions of the names after {@code after} (null: from the
   * first), by name: at most {@code limit}, and no more than {@link #MAX_PAGE_CHARS} characters of
   * definitions unless the first alone is more. Versions read only for the list are not cached.
   */
  public Page<T> currentPage(String after, int limit) {
    // The names and versions first, then their definitions a few at a time, so that a page cut
    // at its size reads no more than a few definitions past the cut.
    List<String> names = new ArrayList<>();
    List<Integer> numbers = new ArrayList<>();
    currentKeys(after == null ? "" : after, limit + 1, names, numbers);
    List<T> items = new ArrayList<>();
    String last = null;
    long chars = 0;
    int wanted = Math.min(names.size(), limit);
    for (int from = 0; from < wanted; from += PAGE_CHUNK) {
      int to = Math.min(wanted, from + PAGE_CHUNK);
      // Listed, not used: the cache keeps the versions running workflows read.
      for (Stored<T> row :
          query(
              false,
              "select "
                  + COLUMNS
                  + " from "
                  + table
                  + " join unnest(?, ?) as k(name, version) using (name, version) order by name",
              names.subList(from, to).toArray(String[]::new),
              numbers.subList(from, to).toArray(Integer[]::new))) {
        chars += row.chars();
        if (!items.isEmpty() && chars > MAX_PAGE_CHARS) {
          return new Page<>(items, last);
        }
        items.add(row.definition());
        last = row.name();
      }
    }
    return new Page<>(items, names.size() > limit ? last : null);
  }

  /** Definitions a page reads at once. */
  private static final int PAGE_CHUNK = 16;

  /** The current versions of the given names; names without one are absent from the map. */
  public Map<String, T> current(Collection<String> names) {
    Map<String, T> result = new LinkedHashMap<>();
    for (Stored<T> s :
        query(
            "select "
                + COLUMNS
                + " from "
                + table
                + " join "
                + latestVersions("where name = any(?)")
                + " where retired_at is null",
            (Object) names.toArray(String[]::new))) {
      result.put(s.name(), s.definition());
    }
    return result;
  }

  /**
   * Serialises every write to the catalog of roles and workflow definitions (and seeding replicas)
   * until the transaction ends: "read latest, insert latest + 1" cannot race, and neither can a
   * write that checks the other kind (a definition validated against the roles it uses, a role
   * edited or retired while definitions use it). Such writes are rare admin actions, so one lock
   * for all of them costs nothing; one per name let a role be retired while a definition using it
   * was being saved, leaving a current definition that cannot run.
   *
   * @param name what is written, for the error message
   */
  public void lock(String name) {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement("select pg_advisory_xact_lock(hashtext(?))")) {
      ps.setString(1, CATALOG_LOCK);
      ps.execute();
    } catch (SQLException e) {
      throw Sql.failure("cannot lock " + table + " " + name, e);
    }
  }

  /** The advisory lock key both stores share. */
  private static final String CATALOG_LOCK = "atelier.orchestrator.catalog";

  public void insert(String name, int version, T definition, String contentHash, String source) {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "insert into "
                    + table
                    + " (name, version, definition, content_hash, source)"
                    + " values (?, ?, ?::jsonb, ?, ?)")) {
      ps.setString(1, name);
      ps.setInt(2, version);
      ps.setString(3, json.write(definition));
      ps.setString(4, contentHash);
      ps.setString(5, source);
      ps.executeUpdate();
    } catch (SQLException e) {
      throw Sql.failure("cannot store " + table + " " + name + " v" + version, e);
    }
  }

  public void retire(String name, int version, Instant at) {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "update " + table + " set retired_at = ? where name = ? and version = ?")) {
      ps.setObject(1, Sql.ts(at));
      ps.setString(2, name);
      ps.setInt(3, version);
      ps.executeUpdate();
    } catch (SQLException e) {
      throw Sql.failure("cannot retire " + table + " " + name + " v" + version, e);
    }
  }

  private List<Stored<T>> query(String sql, Object... params) {
    return query(true, sql, params);
  }

  /**
   * @param cacheMisses whether the versions read that are not cached are cached now, and the cached
   *     ones count as used
   */
  private List<Stored<T>> query(boolean cacheMisses, String sql, Object... params) {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      for (int i = 0; i < params.length; i++) {
        if (params[i] instanceof String[] array) {
          ps.setArray(i + 1, c.createArrayOf("text", array));
        } else if (params[i] instanceof Integer[] array) {
          ps.setArray(i + 1, c.createArrayOf("int4", array));
        } else {
          ps.setObject(i + 1, params[i]);
        }
      }
      List<Stored<T>> result = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          String name = rs.getString("name");
          int version = rs.getInt("version");
          Instant createdAt = Sql.instant(rs, "created_at");
          String key = name + "@" + version;
          Cached<T> hit = versions.get(key);
          T definition;
          int chars;
          if (hit != null) {
            definition = cacheMisses ? hit.use() : hit.definition;
            chars = hit.chars;
          } else {
            String text = readText(rs);
            definition = stamp(json.read(text, type), name, version, createdAt);
            if (cacheMisses) {
              definition = cache(key, definition, text);
            }
            chars = text.length();
          }
          result.add(
              new Stored<>(
                  definition,
                  name,
                  version,
                  rs.getString("content_hash"),
                  rs.getString("source"),
                  createdAt,
                  Sql.instant(rs, "retired_at"),
                  chars));
        }
      }
      return result;
    } catch (SQLException e) {
      throw Sql.failure("cannot read " + table, e);
    }
  }

  /**
   * Caches a version read, evicting the versions used longest ago if the cache would hold too much;
   * the version cached already if another read raced this one.
   */
  private synchronized T cache(String key, T definition, String text) {
    Cached<T> raced = versions.get(key);
    if (raced != null) {
      return raced.use();
    }
    Cached<T> entry = new Cached<>(definition, text.length());
    cachedChars += entry.chars;
    if (cachedChars > MAX_CACHED_CHARS) {
      // When each was used, taken once: reads go on meanwhile, and a sort's keys must hold still.
      record Use(String key, long used, int chars) {}
      List<Use> byUse = new ArrayList<>(versions.size());
      versions.forEach((k, v) -> byUse.add(new Use(k, v.used, v.chars)));
      byUse.sort(Comparator.comparingLong(Use::used));
      for (int i = 0; i < byUse.size() && cachedChars > MAX_CACHED_CHARS / 4 * 3; i++) {
        versions.remove(byUse.get(i).key());
        cachedChars -= byUse.get(i).chars();
      }
    }
    versions.put(key, entry);
    return definition;
  }

  /** Versions cached now (for tests). */
  int cachedVersions() {
    return versions.size();
  }

  /** Whether a version is cached now (for tests). */
  boolean isCached(String name, int version) {
    return versions.containsKey(name + "@" + version);
  }

  private static String readText(ResultSet rs) {
    try {
      return rs.getString("definition");
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }
}
