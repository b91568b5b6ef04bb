package dev.atelier.kit.db;

/**
 * The parts of a {@code jdbc:postgresql://host:port/database?params} URL that database creation
 * needs.
 */
record JdbcUrl(String prefix, String database, String params) {

  static JdbcUrl parse(String url) {
    String scheme = "jdbc:postgresql://";
    if (url == null || !url.startsWith(scheme)) {
      throw new IllegalArgumentException("expected a jdbc:postgresql:// URL, got: " + url);
    }
    int slash = url.indexOf('/', scheme.length());
    if (slash < 0) {
      throw new IllegalArgumentException("the JDBC URL names no database: " + url);
    }
    int query = url.indexOf('?', slash);
    String database = query < 0 ? url.substring(slash + 1) : url.substring(slash + 1, query);
    if (database.isEmpty()) {
      throw new IllegalArgumentException("the JDBC URL names no database: " + url);
    }
    return new JdbcUrl(
        url.substring(0, slash + 1), database, query < 0 ? "" : url.substring(query));
  }

  String withDatabase(String other) {
    return prefix + other + params;
  }

  /** Host and port, for error messages (never the credentials, which are not in the URL). */
  String hostPart() {
    return prefix.substring("jdbc:postgresql://".length(), prefix.length() - 1);
  }
}
