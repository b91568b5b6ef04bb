package dev.atelier.context.repository;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.atelier.context.model.ArtifactKind;
import dev.atelier.context.model.ArtifactSummary;
import dev.atelier.context.model.ArtifactVersion;
import dev.atelier.context.model.Producer;
import dev.atelier.context.model.SearchHit;
import dev.atelier.contracts.ArtifactRef;
import jakarta.enterprise.context.ApplicationScoped;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import javax.sql.DataSource;

/**
 * Artifact versions in PostgreSQL, in plain JDBC. Callers own the transaction; the write methods
 * must run inside one.
 */
@ApplicationScoped
public class ArtifactRepository {

  private static final String META_COLUMNS =
      "workflow_id, name, version, kind, media_type, producer, size_bytes, sha256, created_at";
  private static final String ALL_COLUMNS = META_COLUMNS + ", content";

  private final DataSource dataSource;
  private final ObjectMapper mapper;

  ArtifactRepository(DataSource dataSource, ObjectMapper mapper) {
    this.dataSource = dataSource;
    this.mapper = mapper;
  }

  /**
   * Serialises writers of each idempotency key until the transaction ends, so that a retry racing
   * its own first attempt waits for it and then finds its row instead of failing on the unique
   * constraint. Keys are locked in the order given, in one statement; callers pass them sorted, so
   * two writers of overlapping keys cannot deadlock. A hash collision between two keys only makes
   * them wait for each other. Rows committed by a writer this waited for are visible to the
   * caller's next statement, not to this one: look them up after this returns.
   */
  public void lockIdempotencyKeys(UUID workflowId, List<String> keys) {
    query(
        """
        select pg_advisory_xact_lock(hashtextextended(k, 0))
        from unnest(?::text[]) with ordinality as t(k, i) order by i
        """,
        ps ->
            ps.setArray(
                1,
                ps.getConnection()
                    .createArrayOf("text", keys.stream().map(k -> workflowId + ":" + k).toArray())),
        // The statement runs to its end (every lock taken) before executeQuery returns.
        rs -> null);
  }

  /**
   * Allocates the next version of each named artifact (1 for a new one), in one statement. The
   * upsert locks each artifact's head row until commit, in the order given, which makes concurrent
   * writers of the same artifact take turns. Names must be distinct.
   *
   * @return name to its new version
   */
  public Map<String, Integer> nextVersions(UUID workflowId, List<String> names) {
    return query(
        """
        insert into artifact_head (workflow_id, name, latest_version)
        select ?, n, 1 from unnest(?::text[]) with ordinality as t(n, i) order by i
        on conflict (workflow_id, name)
        do update set latest_version = artifact_head.latest_version + 1
        returning name, latest_version
        """,
        ps -> {
          ps.setObject(1, workflowId);
          ps.setArray(2, ps.getConnection().createArrayOf("text", names.toArray()));
        },
        rs -> {
          Map<String, Integer> versions = new HashMap<>();
          while (rs.next()) {
            versions.put(rs.getString(1), rs.getInt(2));
          }
          return versions;
        });
  }

  /**
   * Inserts versions in one statement; returns those stored, by idempotency key. A version whose
   * idempotency key was taken meanwhile is missing from the result (not expected while the caller
   * holds {@link #lockIdempotencyKeys}).
   *
   * @param withContent whether the returned versions carry their content; without it (a batch
   *     write, answered with metadata) the database does not send back what it was just sent
   */
  public Map<String, ArtifactVersion> insertAll(List<NewVersion> versions, boolean withContent) {
    StringBuilder sql =
        new StringBuilder(
            "insert into artifact_version (workflow_id, name, version, kind, media_type, content,"
                + " producer, size_bytes, sha256, idempotency_key, request_sha256) values ");
    for (int i = 0; i < versions.size(); i++) {
      sql.append(i == 0 ? "" : ", ")
          .append("(?, ?, ?, ?, ?, cast(? as jsonb), cast(? as jsonb), ?, ?, ?, ?)");
    }
    sql.append(" on conflict (workflow_id, idempotency_key) do nothing returning ")
        .append(withContent ? ALL_COLUMNS : META_COLUMNS)
        .append(", idempotency_key");
    return query(
        sql.toString(),
        ps -> {
          int p = 0;
          for (NewVersion v : versions) {
            ps.setObject(++p, v.workflowId());
            ps.setString(++p, v.name());
            ps.setInt(++p, v.version());
            ps.setString(++p, v.kind().wire());
            ps.setString(++p, v.mediaType());
            ps.setString(++p, v.contentJson());
            ps.setString(++p, v.producer() == null ? null : write(v.producer()));
            ps.setInt(++p, v.sizeBytes());
            ps.setString(++p, v.sha256());
            ps.setString(++p, v.idempotencyKey());
            ps.setString(++p, v.requestSha256());
          }
        },
        rs -> {
          Map<String, ArtifactVersion> stored = new HashMap<>();
          while (rs.next()) {
            stored.put(rs.getString("idempotency_key"), withContent ? full(rs) : meta(rs, null));
          }
          return stored;
        });
  }

  public Optional<ArtifactVersion> findLatest(UUID workflowId, String name) {
    return query(
        "select "
            + ALL_COLUMNS
            + " from artifact_version where workflow_id = ? and name = ?"
            + " order by version desc limit 1",
        ps -> {
          ps.setObject(1, workflowId);
          ps.setString(2, name);
        },
        rs -> rs.next() ? Optional.of(full(rs)) : Optional.empty());
  }

  public Optional<ArtifactVersion> findVersion(UUID workflowId, String name, int version) {
    return query(
        "select "
            + ALL_COLUMNS
            + " from artifact_version where workflow_id = ? and name = ? and version = ?",
        ps -> {
          ps.setObject(1, workflowId);
          ps.setString(2, name);
          ps.setInt(3, version);
        },
        rs -> rs.next() ? Optional.of(full(rs)) : Optional.empty());
  }

  /**
   * Versions read together, and the size of their contents together ({@code sizeBytes} summed).
   * When that passes the read's limit, the versions come without content: the database did not send
   * it.
   */
  public record Read<T>(List<T> found, long totalBytes) {}

  /**
   * The given (distinct) versions with content, in one statement, unless their contents together
   * are over {@code maxBytes}; versions that do not exist are absent from the result, which is in
   * no particular order.
   */
  public Read<ArtifactVersion> findVersions(
      UUID workflowId, List<ArtifactRef> refs, long maxBytes) {
    if (refs.isEmpty()) {
      return new Read<>(List.of(), 0);
    }
    return query(
        "select v."
            + META_COLUMNS.replace(", ", ", v.")
            + ", case when sum(v.size_bytes) over () <= ? then v.content end as content,"
            + " sum(v.size_bytes) over () as total_bytes"
            + " from unnest(?, ?) as r(name, version) join artifact_version v"
            + " on v.workflow_id = ? and v.name = r.name and v.version = r.version",
        ps -> {
          Connection c = ps.getConnection();
          ps.setLong(1, maxBytes);
          ps.setArray(2, c.createArrayOf("text", refs.stream().map(ArtifactRef::name).toArray()));
          ps.setArray(
              3, c.createArrayOf("int4", refs.stream().map(ArtifactRef::version).toArray()));
          ps.setObject(4, workflowId);
        },
        rs -> {
          List<ArtifactVersion> found = new ArrayList<>();
          long total = 0;
          while (rs.next()) {
            found.add(withContentIfSent(rs));
            total = rs.getLong("total_bytes");
          }
          return new Read<>(found, total);
        });
  }

  /** A row whose content may have been left out (null) because a read was over its limit. */
  private ArtifactVersion withContentIfSent(ResultSet rs) throws SQLException {
    String content = rs.getString("content");
    return meta(rs, content == null ? null : read(content));
  }

  /**
   * The versions the given idempotency keys wrote, with content; keys that wrote none are absent.
   */
  public List<StoredWrite> findByIdempotencyKeys(UUID workflowId, List<String> keys) {
    return findByIdempotencyKeys(workflowId, keys, Long.MAX_VALUE).found();
  }

  /**
   * Like {@link #findByIdempotencyKeys(UUID, List)}, without content when the contents together are
   * over {@code maxBytes}.
   */
  public Read<StoredWrite> findByIdempotencyKeys(
      UUID workflowId, List<String> keys, long maxBytes) {
    if (keys.isEmpty()) {
      return new Read<>(List.of(), 0);
    }
    return query(
        "select "
            + META_COLUMNS
            + ", case when sum(size_bytes) over () <= ? then content end as content,"
            + " sum(size_bytes) over () as total_bytes, request_sha256, idempotency_key"
            + " from artifact_version where workflow_id = ? and idempotency_key = any(?)",
        ps -> {
          ps.setLong(1, maxBytes);
          ps.setObject(2, workflowId);
          ps.setArray(3, ps.getConnection().createArrayOf("text", keys.toArray()));
        },
        rs -> {
          List<StoredWrite> found = new ArrayList<>();
          long total = 0;
          while (rs.next()) {
            found.add(
                new StoredWrite(
                    withContentIfSent(rs),
                    rs.getString("request_sha256"),
                    rs.getString("idempotency_key")));
            total = rs.getLong("total_bytes");
          }
          return new Read<>(found, total);
        });
  }

  /** Up to {@code limit} versions of one artifact after {@code afterVersion}, oldest first. */
  public List<ArtifactSummary> listVersions(
      UUID workflowId, String name, int afterVersion, int limit) {
    return query(
        "select "
            + META_COLUMNS
            + " from artifact_version where workflow_id = ? and name = ? and version > ?"
            + " order by version limit ?",
        ps -> {
          ps.setObject(1, workflowId);
          ps.setString(2, name);
          ps.setInt(3, afterVersion);
          ps.setInt(4, limit);
        },
        this::summaries);
  }

  /** Where a list of the latest versions goes on: after this artifact, in creation order. */
  public record HeadPosition(Instant createdAt, String name) {}

  /** Latest versions, each with its artifact's position in the list. */
  public record LatestPage(List<ArtifactSummary> items, List<HeadPosition> positions) {}

  /**
   * The latest version of up to {@code limit} artifacts of a workflow after {@code after} (null:
   * from the first), in the order the artifacts were created.
   */
  public LatestPage listLatest(UUID workflowId, HeadPosition after, int limit) {
    return query(
        "select h.created_at as head_created_at, v."
            + META_COLUMNS.replace(", ", ", v.")
            + " from artifact_head h join artifact_version v"
            + " on v.workflow_id = h.workflow_id and v.name = h.name and v.version = h.latest_version"
            + " where h.workflow_id = ?"
            + (after == null ? "" : " and (h.created_at, h.name) > (?, ?)")
            + " order by h.created_at, h.name limit ?",
        ps -> {
          int i = 0;
          ps.setObject(++i, workflowId);
          if (after != null) {
            ps.setObject(++i, after.createdAt().atOffset(ZoneOffset.UTC));
            ps.setString(++i, after.name());
          }
          ps.setInt(++i, limit);
        },
        rs -> {
          List<ArtifactSummary> items = new ArrayList<>();
          List<HeadPosition> positions = new ArrayList<>();
          while (rs.next()) {
            ArtifactSummary summary = meta(rs, null).summary();
            items.add(summary);
            positions.add(
                new HeadPosition(
                    rs.getObject("head_created_at", OffsetDateTime.class).toInstant(),
                    summary.name()));
          }
          return new LatestPage(items, positions);
        });
  }

  /**
   * Whether {@code query} names anything an index can find. A query of excluded words only ({@code
   * -draft}), or one with such a word among {@code or}'s alternatives, matches nearly every
   * artifact and can only be answered by reading and ranking all of them: PostgreSQL's {@code
   * querytree} of it is {@code T}.
   */
  public boolean indexable(String query) {
    return query(
        "select querytree(websearch_to_tsquery('english', ?)) <> 'T'",
        ps -> ps.setString(1, query),
        rs -> rs.next() && rs.getBoolean(1));
  }

  /**
   * Full-text search over the latest version of each artifact, best match first. The inner query
   * ranks and limits; snippets are built only for the rows it keeps, because {@code ts_headline}
   * re-parses the whole text and is the expensive part.
   *
   * @param workflowId null to search every workflow
   * @param timeout how long the database may take (whole seconds, at least one)
   * @throws QueryCancelledException when the database cancelled it at {@code timeout}
   */
  public List<SearchHit> search(String query, UUID workflowId, int limit, Duration timeout) {
    // ts_headline returns the artifact's raw text: matches are marked with STX/ETX (removed from
    // the text first, so every one in the snippet is a marker) and turned into <b></b> only after
    // the text is HTML-escaped.
    String sql =
        """
        select m.*, ts_headline('english', translate(m.body, chr(2) || chr(3), ''), m.q,
                 'MaxFragments=2, MaxWords=25, MinWords=8, FragmentDelimiter=" … ", StartSel='
                 || chr(2) || ', StopSel=' || chr(3)) as snippet
        from (
          select v.workflow_id, v.name, v.version, v.kind, v.created_at, q,
                 ts_rank(v.search_document, q) as rank,
                 artifact_search_text(v.content) as body
          from artifact_head h
          join artifact_version v
            on v.workflow_id = h.workflow_id and v.name = h.name and v.version = h.latest_version,
               websearch_to_tsquery('english', ?) q
          where v.search_document @@ q %s
          order by rank desc, v.created_at desc, v.name
          limit ?
        ) m
        order by m.rank desc, m.created_at desc, m.name
        """
            .formatted(workflowId == null ? "" : "and h.workflow_id = ?");
    try {
      return searchQuery(sql, query, workflowId, limit, timeout);
    } catch (DataAccessException e) {
      // Only this statement has a timeout: a cancel of it is the timeout's.
      if (e.getCause() instanceof SQLException sql2 && QUERY_CANCELED.equals(sql2.getSQLState())) {
        throw new QueryCancelledException(e.getCause());
      }
      throw e;
    }
  }

  private List<SearchHit> searchQuery(
      String sql, String query, UUID workflowId, int limit, Duration timeout) {
    return query(
        sql,
        ps -> {
          ps.setQueryTimeout((int) Math.max(1, Math.min(timeout.toSeconds(), Integer.MAX_VALUE)));
          int i = 1;
          ps.setString(i++, query);
          if (workflowId != null) {
            ps.setObject(i++, workflowId);
          }
          ps.setInt(i, limit);
        },
        rs -> {
          List<SearchHit> hits = new ArrayList<>();
          while (rs.next()) {
            String name = rs.getString("name");
            int version = rs.getInt("version");
            hits.add(
                new SearchHit(
                    rs.getObject("workflow_id", UUID.class),
                    name,
                    version,
                    new ArtifactRef(name, version),
                    ArtifactKind.fromWire(rs.getString("kind")),
                    rs.getDouble("rank"),
                    snippetHtml(rs.getString("snippet")),
                    rs.getTimestamp("created_at").toInstant()));
          }
          return hits;
        });
  }

  /** The snippet as HTML: its text escaped, the match markers as {@code <b>} and {@code </b>}. */
  private static String snippetHtml(String marked) {
    if (marked == null) {
      return null;
    }
    StringBuilder html = new StringBuilder(marked.length() + 32);
    for (int i = 0; i < marked.length(); i++) {
      char c = marked.charAt(i);
      switch (c) {
        case '\u0002' -> html.append("<b>");
        case '\u0003' -> html.append("</b>");
        case '&' -> html.append("&amp;");
        case '<' -> html.append("&lt;");
        case '>' -> html.append("&gt;");
        case '"' -> html.append("&quot;");
        case '\'' -> html.append("&#39;");
        default -> html.append(c);
      }
    }
    return html.toString();
  }

  private List<ArtifactSummary> summaries(ResultSet rs) throws SQLException {
    List<ArtifactSummary> list = new ArrayList<>();
    while (rs.next()) {
      list.add(meta(rs, null).summary());
    }
    return list;
  }

  private ArtifactVersion full(ResultSet rs) throws SQLException {
    return meta(rs, read(rs.getString("content")));
  }

  private ArtifactVersion meta(ResultSet rs, JsonNode content) throws SQLException {
    String name = rs.getString("name");
    int version = rs.getInt("version");
    String producer = rs.getString("producer");
    return new ArtifactVersion(
        rs.getObject("workflow_id", UUID.class),
        name,
        version,
        new ArtifactRef(name, version),
        ArtifactKind.fromWire(rs.getString("kind")),
        rs.getString("media_type"),
        content,
        producer == null ? null : readProducer(producer),
        rs.getInt("size_bytes"),
        rs.getString("sha256"),
        rs.getTimestamp("created_at").toInstant());
  }

  private JsonNode read(String json) {
    try {
      return mapper.readTree(json);
    } catch (JsonProcessingException e) {
      throw new DataAccessException("stored content is not JSON", e);
    }
  }

  private Producer readProducer(String json) {
    try {
      return mapper.readValue(json, Producer.class);
    } catch (JsonProcessingException e) {
      throw new DataAccessException("stored producer is not readable", e);
    }
  }

  private String write(Object value) {
    try {
      return mapper.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new DataAccessException("cannot serialise " + value.getClass().getSimpleName(), e);
    }
  }

  private <T> T query(String sql, Binder binder, Reader<T> reader) {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      binder.bind(ps);
      try (ResultSet rs = ps.executeQuery()) {
        return reader.read(rs);
      }
    } catch (SQLException e) {
      throw new DataAccessException("artifact query failed: " + e.getMessage(), e);
    }
  }

  /** SQLSTATE of a statement cancelled (by its timeout, here). */
  private static final String QUERY_CANCELED = "57014";

  /** A search the database cancelled at its timeout. */
  public static final class QueryCancelledException extends RuntimeException {
    QueryCancelledException(Throwable cause) {
      super("the search was cancelled at its timeout", cause);
    }
  }

  @FunctionalInterface
  private interface Binder {
    void bind(PreparedStatement ps) throws SQLException;
  }

  @FunctionalInterface
  private interface Reader<T> {
    T read(ResultSet rs) throws SQLException;
  }
}
