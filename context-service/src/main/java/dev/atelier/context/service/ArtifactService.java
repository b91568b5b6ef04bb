package dev.atelier.context.service;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.atelier.context.config.ArtifactLimits;
import dev.atelier.context.model.ArtifactKind;
import dev.atelier.context.model.ArtifactReadResult;
import dev.atelier.context.model.ArtifactReads;
import dev.atelier.context.model.ArtifactSummary;
import dev.atelier.context.model.ArtifactVersion;
import dev.atelier.context.model.ClaimState;
import dev.atelier.context.model.NewArtifact;
import dev.atelier.context.model.StepRelease;
import dev.atelier.context.repository.ArtifactRepository;
import dev.atelier.context.repository.DataAccessException;
import dev.atelier.context.repository.NewVersion;
import dev.atelier.context.repository.StepClaimRepository;
import dev.atelier.context.repository.StoredWrite;
import dev.atelier.contracts.ArtifactRef;
import dev.atelier.contracts.Headers;
import dev.atelier.contracts.Utf16;
import dev.atelier.kit.db.StorableTime;
import dev.atelier.kit.problem.ProblemException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.UUID;

/**
 * Writes and reads versioned artifacts. Every write appends a version; a write retried with the
 * same idempotency key returns the version it wrote the first time.
 */
@ApplicationScoped
public class ArtifactService {

  /** Deepest nesting of objects and arrays a JSON artifact may have. */
  public static final int MAX_DEPTH = 256;

  private final ArtifactRepository repository;
  private final CanonicalJson canonical;
  private final ObjectMapper mapper;
  private final ArtifactLimits limits;
  private final int maxNumberLength;
  private final Counter created;
  private final Counter replayed;
  private final StepClaimRepository claims;

  ArtifactService(
      ArtifactRepository repository,
      StepClaimRepository claims,
      CanonicalJson canonical,
      ObjectMapper mapper,
      ArtifactLimits limits,
      MeterRegistry registry) {
    this.repository = repository;
    this.claims = claims;
    this.canonical = canonical;
    this.mapper = mapper;
    this.limits = limits;
    // Stored content is parsed again on every read: a number must stay readable by this mapper.
    this.maxNumberLength = mapper.getFactory().streamReadConstraints().getMaxNumberLength();
    this.created = writes(registry, "created");
    this.replayed = writes(registry, "replayed");
  }

  /**
   * Appends a version of {@code artifact.name()}, or returns the one this idempotency key already
   * wrote.
   *
   * @throws ProblemException 400 for a missing key or content of the wrong shape, 413 for content
   *     over the limit, 422 when the key already wrote a different request
   */
  @Transactional
  public WriteOutcome write(UUID workflowId, String idempotencyKey, NewArtifact artifact) {
    return write(workflowId, idempotencyKey, artifact, null);
  }

  /**
   * Like {@link #write(UUID, String, NewArtifact)}, only if the artifact's latest version is the
   * expected one. A replay of the key is answered before the precondition is checked: the retry of
   * a write that succeeded must get its version back, although the latest is now its own.
   *
   * @param precondition null for none
   * @throws ProblemException also 412 when the precondition fails
   */
  @Transactional
  public WriteOutcome write(
      UUID workflowId, String idempotencyKey, NewArtifact artifact, Precondition precondition) {
    String key = checkKey(idempotencyKey);
    return writeSorted(workflowId, new TreeMap<>(Map.of(key, artifact)), precondition, true)
        .get(key);
  }

  /**
   * Writes several artifacts in one transaction: all are stored or none. Each is stored under the
   * key {@code <idempotencyKey>:<name>}, exactly as if it had been written alone with that key, so
   * a retried batch replays and a batch may follow single writes of the same keys (or the other way
   * round). Keys are locked in a fixed order, so two batches sharing keys cannot deadlock.
   *
   * @return one outcome per artifact, in the order given
   * @throws ProblemException 400 for a missing key, a duplicate name or content of the wrong shape,
   *     413 for content over the limit, 422 when a key already wrote a different request
   */
  @Transactional
  public List<WriteOutcome> writeAll(
      UUID workflowId, String idempotencyKey, List<NewArtifact> artifacts, StepRelease release) {
    String prefix = checkKey(idempotencyKey);
    SortedMap<String, NewArtifact> byKey = new TreeMap<>();
    for (NewArtifact artifact : artifacts) {
      String key = prefix + ":" + artifact.name();
      if (key.length() > limits.maxIdempotencyKeyLength()) {
        // Each artifact is stored under "<header>:<name>"; say so, the header alone may be short.
        throw ProblemException.badRequest(
            "invalid-idempotency-key",
            "the "
                + Headers.IDEMPOTENCY_KEY
                + " header joined with artifact name '"
                + artifact.name()
                + "' (\"<key>:<name>\") is longer than "
                + limits.maxIdempotencyKeyLength()
                + " characters; use a shorter key or name");
      }
      if (byKey.put(key, artifact) != null) {
        throw ProblemException.badRequest(
            "duplicate-name",
            "artifact '" + artifact.name() + "' appears more than once in the batch");
      }
    }
    Map<String, WriteOutcome> outcomes = writeSorted(workflowId, byKey, null, false);
    if (release != null) {
      // In this transaction: the attempt's outputs are stored and its lease ends together.
      claims.release(workflowId, release.key(), release.holder());
    }
    return artifacts.stream().map(a -> outcomes.get(prefix + ":" + a.name())).toList();
  }

  /**
   * Reads several versions and the writes of several idempotency keys with two statements. Their
   * contents together may be at most {@code context.artifacts.max-read-bytes}: the answer is held
   * in memory whole, and 50 refs of 1 MiB each would take a good part of the heap, twice over.
   *
   * @throws ProblemException 400 for a ref or key given twice, 404 naming the first ref that does
   *     not exist, 413 when the contents together are over the limit (the database sends none)
   */
  public ArtifactReadResult readAll(UUID workflowId, ArtifactReads reads) {
    List<ArtifactRef> refs = reads.refsOrEmpty();
    List<String> keys = reads.keysOrEmpty();
    requireDistinct(refs, "refs");
    requireDistinct(keys, "idempotencyKeys");
    long max = limits.maxReadBytes();
    ArtifactRepository.Read<ArtifactVersion> versions =
        repository.findVersions(workflowId, refs, max);
    Map<ArtifactRef, ArtifactVersion> found = new HashMap<>();
    for (ArtifactVersion v : versions.found()) {
      found.put(v.ref(), v);
    }
    List<ArtifactVersion> artifacts = new ArrayList<>(refs.size());
    for (ArtifactRef ref : refs) {
      ArtifactVersion v = found.get(ref);
      if (v == null) {
        throw ProblemException.notFound("artifact version", ref + " of workflow " + workflowId);
      }
      artifacts.add(v);
    }
    if (versions.totalBytes() > max) {
      throw readTooLarge(versions.totalBytes(), max);
    }
    ArtifactRepository.Read<StoredWrite> writes =
        repository.findByIdempotencyKeys(workflowId, keys, max - versions.totalBytes());
    long total = versions.totalBytes() + writes.totalBytes();
    if (total > max) {
      throw readTooLarge(total, max);
    }
    Map<String, ArtifactVersion> written = new LinkedHashMap<>();
    for (StoredWrite w : writes.found()) {
      written.put(w.idempotencyKey(), w.version());
    }
    // Last: a read refused above (a missing input, too much) takes no lease its worker would not
    // know to release.
    ClaimState claim = reads.claim() == null ? null : claims.claim(workflowId, reads.claim());
    return new ArtifactReadResult(artifacts, written, claim);
  }

  private static <T> void requireDistinct(List<T> items, String field) {
    Set<T> seen = new HashSet<>();
    for (T item : items) {
      if (!seen.add(item)) {
        throw ProblemException.badRequest(
            "duplicate-" + (field.equals("refs") ? "ref" : "key"),
            "'" + field + "' lists " + item + " more than once");
      }
    }
  }

  private static ProblemException readTooLarge(long total, long max) {
    return ProblemException.tooLarge(
        "read-too-large",
        "the artifacts asked for hold "
            + total
            + " bytes together; one batch read returns at most "
            + max
            + " (context.artifacts.max-read-bytes, ARTIFACT_MAX_READ_BYTES): read them in"
            + " several requests");
  }

  /**
   * Writes artifacts under their idempotency keys, with four statements however many there are:
   * lock the keys (in key order), find what they already wrote, allocate the new versions, insert
   * them. Every artifact is validated before the first statement, so bad input changes nothing.
   *
   * @param byKey artifacts by idempotency key, in key order (the order the locks are taken in)
   * @param precondition checked for every new version once its head row is locked; null for none
   * @param withContent whether new versions are returned with their content (replays always are)
   * @return outcomes by idempotency key
   */
  private Map<String, WriteOutcome> writeSorted(
      UUID workflowId,
      SortedMap<String, NewArtifact> byKey,
      Precondition precondition,
      boolean withContent) {
    Map<String, Prepared> prepared = new LinkedHashMap<>();
    byKey.forEach((key, artifact) -> prepared.put(key, prepare(artifact)));

    List<String> keys = List.copyOf(byKey.keySet());
    repository.lockIdempotencyKeys(workflowId, keys);
    Map<String, WriteOutcome> outcomes = new HashMap<>();
    for (StoredWrite previous : repository.findByIdempotencyKeys(workflowId, keys)) {
      String key = previous.idempotencyKey();
      outcomes.put(key, replay(previous, key, prepared.get(key).requestSha256()));
    }
    List<String> fresh = keys.stream().filter(k -> !outcomes.containsKey(k)).toList();
    if (fresh.isEmpty()) {
      return outcomes;
    }
    Map<String, Integer> versions =
        repository.nextVersions(workflowId, fresh.stream().map(k -> byKey.get(k).name()).toList());
    List<NewVersion> rows = new ArrayList<>(fresh.size());
    for (String key : fresh) {
      NewArtifact artifact = byKey.get(key);
      int version = versions.get(artifact.name());
      if (precondition != null) {
        // nextVersions holds the head row lock until commit, so no other writer can slip in
        // between this check and the insert; a failed check rolls the counter back with the
        // transaction.
        precondition.check(artifact.name() + " of workflow " + workflowId, version - 1);
      }
      Prepared p = prepared.get(key);
      rows.add(
          new NewVersion(
              workflowId,
              artifact.name(),
              version,
              artifact.kind(),
              artifact.effectiveMediaType(),
              p.contentJson(),
              artifact.producer(),
              p.content().length,
              CanonicalJson.sha256(p.content()),
              key,
              p.requestSha256()));
    }
    Map<String, ArtifactVersion> stored = insert(rows, withContent);
    for (String key : fresh) {
      ArtifactVersion version = stored.get(key);
      if (version == null) {
        throw ProblemException.conflict(
            "concurrent-write", "another write with this Idempotency-Key is in progress; retry");
      }
      outcomes.put(key, new WriteOutcome(version, true));
    }
    created.increment(fresh.size());
    return outcomes;
  }

  /**
   * Inserts the versions; a PostgreSQL limit on what one row can hold (SQLSTATE 54000, e.g. a
   * search document over 1 MB) is the content's fault, not the service's: 413, nothing stored.
   */
  private Map<String, ArtifactVersion> insert(List<NewVersion> rows, boolean withContent) {
    try {
      return repository.insertAll(rows, withContent);
    } catch (DataAccessException e) {
      for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
        if (t instanceof SQLException sql && "54000".equals(sql.getSQLState())) {
          throw ProblemException.tooLarge(
              "artifact-too-large",
              "artifact content exceeds a database limit on what one version can hold (for"
                  + " example too much distinct text to index for search); nothing was stored");
        }
      }
      throw e;
    }
  }

  /** An artifact checked and encoded for storing. */
  private record Prepared(byte[] content, String contentJson, String requestSha256) {}

  private Prepared prepare(NewArtifact artifact) {
    byte[] content = contentBytes(artifact);
    // A JSON artifact's stored text is its canonical bytes; a text artifact's is a JSON string.
    String contentJson =
        artifact.kind() == ArtifactKind.JSON
            ? new String(content, StandardCharsets.UTF_8)
            : contentJson(artifact.content());
    return new Prepared(
        content, contentJson, CanonicalJson.sha256(canonical.bytes(requestOf(artifact))));
  }

  public ArtifactVersion latest(UUID workflowId, String name) {
    return repository.findLatest(workflowId, name).orElseThrow(() -> notFound(workflowId, name));
  }

  public ArtifactVersion version(UUID workflowId, String name, int version) {
    return repository
        .findVersion(workflowId, name, version)
        .orElseThrow(
            () ->
                ProblemException.notFound(
                    "artifact version", name + "@" + version + " of workflow " + workflowId));
  }

  /** A page of a list and the {@code after} of the next page, {@code null} at the end. */
  public record ListPage(List<ArtifactSummary> items, String nextAfter) {}

  /** Most items one page of a list holds, and how many it holds unless asked for fewer. */
  public static final int MAX_LIST_LIMIT = 1000;

  /**
   * Versions of an artifact, oldest first, {@code limit} at a time after version {@code after}.
   *
   * @throws ProblemException 404 when the artifact has no version; 400 for a limit outside
   *     1..{@value #MAX_LIST_LIMIT} or a negative {@code after}
   */
  public ListPage versions(UUID workflowId, String name, Integer limit, Integer after) {
    int size = listLimit(limit);
    if (after != null && after < 0) {
      throw ProblemException.badRequest(
          "invalid-after", "after must be a version number (0 or more), got " + after);
    }
    int from = after == null ? 0 : after;
    List<ArtifactSummary> versions = repository.listVersions(workflowId, name, from, size + 1);
    if (versions.isEmpty()
        && (from == 0 || repository.listVersions(workflowId, name, 0, 1).isEmpty())) {
      throw notFound(workflowId, name);
    }
    if (versions.size() <= size) {
      return new ListPage(versions, null);
    }
    List<ArtifactSummary> page = versions.subList(0, size);
    return new ListPage(page, String.valueOf(page.get(size - 1).version()));
  }

  /**
   * The latest version of each artifact, in the order the artifacts were created, {@code limit} at
   * a time after the cursor {@code after}. context-service keeps no workflow registry: a workflow
   * that has written nothing is unknown here, hence 404 rather than an empty list.
   *
   * @throws ProblemException 404 when the workflow has no artifacts; 400 for a limit outside
   *     1..{@value #MAX_LIST_LIMIT} or a cursor this service did not issue
   */
  public ListPage latestOfEach(UUID workflowId, Integer limit, String after) {
    int size = listLimit(limit);
    ArtifactRepository.HeadPosition from = after == null ? null : decodePosition(after);
    ArtifactRepository.LatestPage latest = repository.listLatest(workflowId, from, size + 1);
    if (latest.items().isEmpty()
        && (from == null || repository.listLatest(workflowId, null, 1).items().isEmpty())) {
      throw new ProblemException(
          404, "not-found", "Not found", "workflow " + workflowId + " has no artifacts");
    }
    if (latest.items().size() <= size) {
      return new ListPage(latest.items(), null);
    }
    return new ListPage(
        latest.items().subList(0, size), encodePosition(latest.positions().get(size - 1)));
  }

  private static int listLimit(Integer limit) {
    int size = limit == null ? MAX_LIST_LIMIT : limit;
    if (size < 1 || size > MAX_LIST_LIMIT) {
      throw ProblemException.badRequest(
          "invalid-limit", "limit must be between 1 and " + MAX_LIST_LIMIT + ", got " + size);
    }
    return size;
  }

  private static String encodePosition(ArtifactRepository.HeadPosition p) {
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString((p.createdAt() + "|" + p.name()).getBytes(StandardCharsets.UTF_8));
  }

  private static ArtifactRepository.HeadPosition decodePosition(String cursor) {
    try {
      String raw = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8);
      int bar = raw.indexOf('|');
      Instant at = Instant.parse(raw.substring(0, bar));
      String name = raw.substring(bar + 1);
      if (!StorableTime.holds(at) || !name.matches(NewArtifact.NAME_PATTERN)) {
        throw new IllegalArgumentException("not a cursor");
      }
      return new ArtifactRepository.HeadPosition(at, name);
    } catch (RuntimeException e) {
      throw ProblemException.badRequest(
          "invalid-after", "after is not a cursor this API returned (its Link rel=\"next\")");
    }
  }

  private WriteOutcome replay(StoredWrite previous, String key, String requestSha256) {
    if (!previous.requestSha256().equals(requestSha256)) {
      throw new ProblemException(
          422,
          "idempotency-key-reuse",
          "Idempotency key reused",
          Headers.IDEMPOTENCY_KEY
              + " '"
              + key
              + "' already wrote "
              + previous.version().ref()
              + " from a different request; reuse a key only to retry the same write");
    }
    replayed.increment();
    return new WriteOutcome(previous.version(), false);
  }

  private String checkKey(String key) {
    if (key == null || key.isBlank()) {
      throw ProblemException.badRequest(
          "missing-idempotency-key",
          "the " + Headers.IDEMPOTENCY_KEY + " header is required, e.g. <stepId>:<attempt>:<name>");
    }
    if (key.length() > limits.maxIdempotencyKeyLength()) {
      throw ProblemException.badRequest(
          "invalid-idempotency-key",
          "the "
              + Headers.IDEMPOTENCY_KEY
              + " header is longer than "
              + limits.maxIdempotencyKeyLength()
              + " characters");
    }
    return key;
  }

  /** Checks the content's shape against its kind, that it can be stored, and its size. */
  private byte[] contentBytes(NewArtifact artifact) {
    JsonNode content = artifact.content();
    boolean json = artifact.kind() == ArtifactKind.JSON;
    if (json ? !content.isContainerNode() : !content.isTextual()) {
      throw ProblemException.badRequest(
          "invalid-content",
          "content of a "
              + artifact.kind().wire()
              + " artifact must be "
              + (json ? "a JSON object or array" : "a string")
              + ", got "
              + content.getNodeType().name().toLowerCase());
    }
    long[] numberChars = new long[1];
    Unstorable unstorable = unstorable(content, 1, numberChars);
    if (unstorable != null) {
      // Valid JSON that PostgreSQL's jsonb cannot hold (or this service could not read back):
      // refuse it here, naming where it is, rather than fail in SQL
      // (or in serialising it: a lone surrogate is not UTF-8).
      throw ProblemException.badRequest(
          "invalid-content", "content at $" + unstorable.path() + " " + unstorable.reason());
    }
    if (numberChars[0] > limits.maxContentBytes()) {
      // Numbers are stored written out in full (1e999 as a thousand characters): refused before
      // that form is built, which could be far larger than the request.
      throw ProblemException.tooLarge(
          "artifact-too-large",
          "artifact content holds numbers of "
              + numberChars[0]
              + " characters written out in full; the limit"
              + " (context.artifacts.max-content-bytes) is "
              + limits.maxContentBytes()
              + " bytes");
    }
    byte[] bytes = json ? canonical.bytes(content) : CanonicalJson.utf8(content.textValue());
    if (bytes.length > limits.maxContentBytes()) {
      throw ProblemException.tooLarge(
          "artifact-too-large",
          "artifact content is "
              + bytes.length
              + " bytes; the limit (context.artifacts.max-content-bytes) is "
              + limits.maxContentBytes()
              + " bytes");
    }
    return bytes;
  }

  /** Where in the content (a JSON path below {@code $}) a value cannot be stored, and why. */
  private record Unstorable(String path, String reason) {

    Unstorable under(String segment) {
      return new Unstorable(segment + path, reason);
    }
  }

  /**
   * Why a value cannot be stored, or null if it can: a U+0000 or an unpaired surrogate (UTF-16 half
   * of a character) in a string or key, or a number longer, written out in full as PostgreSQL
   * prints it, than a JSON number may be on reading (jsonb's numeric itself overflows later: at
   * 131,072 digits before the point, 16,383 after), or an object or array nested deeper than
   * {@value #MAX_DEPTH} levels (readable alone, but not within a read's answer, which nests it
   * further). The path is built only for the value refused. Adds the numbers' written-out lengths
   * to {@code numberChars[0]}.
   */
  private Unstorable unstorable(JsonNode node, int depth, long[] numberChars) {
    if (depth > MAX_DEPTH && node.isContainerNode()) {
      return new Unstorable("", "is nested deeper than " + MAX_DEPTH + " levels");
    }
    if (node.isTextual()) {
      String bad = badCharacter(node.textValue());
      return bad == null ? null : new Unstorable("", "contains " + bad);
    }
    if (node.isBigDecimal()) {
      int length = writtenOutLength(node.decimalValue());
      numberChars[0] += length;
      return length <= maxNumberLength
          ? null
          : new Unstorable(
              "",
              "is a number of "
                  + length
                  + " characters written out in full; at most "
                  + maxNumberLength
                  + " are stored");
    }
    for (Map.Entry<String, JsonNode> field : node.properties()) {
      String bad = badCharacter(field.getKey());
      if (bad != null) {
        return new Unstorable("", "has a key that contains " + bad);
      }
      Unstorable found = unstorable(field.getValue(), depth + 1, numberChars);
      if (found != null) {
        return found.under(pathSegment(field.getKey()));
      }
    }
    if (node.isArray()) {
      for (int i = 0; i < node.size(); i++) {
        Unstorable found = unstorable(node.get(i), depth + 1, numberChars);
        if (found != null) {
          return found.under("[" + i + "]");
        }
      }
    }
    return null;
  }

  private static String badCharacter(String text) {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '\0') {
        return "the character U+0000";
      }
      if (Utf16.unpairedSurrogateAt(text, i)) {
        return "an unpaired surrogate \\u" + HexFormat.of().withUpperCase().toHexDigits(c);
      }
    }
    return null;
  }

  /** Length of the number in plain notation (sign, digits, point), as jsonb prints it. */
  private static int writtenOutLength(BigDecimal n) {
    int fraction = Math.max(n.scale(), 0);
    long whole = n.signum() == 0 ? 1 : Math.max((long) n.precision() - n.scale(), 1);
    long length = (n.signum() < 0 ? 1 : 0) + whole + (fraction > 0 ? 1 + fraction : 0);
    return (int) Math.min(length, Integer.MAX_VALUE);
  }

  /** {@code .key}, or {@code ["key"]} (shortened, escaped) for a key that is not a plain word. */
  private static String pathSegment(String key) {
    if (key.matches("[A-Za-z_][A-Za-z0-9_]{0,63}")) {
      return "." + key;
    }
    StringBuilder quoted = new StringBuilder("[\"");
    key.codePoints()
        .limit(64)
        .forEach(
            c -> {
              if (c < 0x20 || c == '"' || c == '\\' || (c >= 0xD800 && c <= 0xDFFF)) {
                quoted.append("\\u").append(HexFormat.of().toHexDigits((char) c));
              } else {
                quoted.appendCodePoint(c);
              }
            });
    return quoted.append(key.codePointCount(0, key.length()) > 64 ? "…\"]" : "\"]").toString();
  }

  /** Everything that defines the write, so a replay can be told apart from a different request. */
  private JsonNode requestOf(NewArtifact artifact) {
    ObjectNode request = mapper.createObjectNode();
    request.put("name", artifact.name());
    request.put("kind", artifact.kind().wire());
    request.put("mediaType", artifact.effectiveMediaType());
    request.set("content", artifact.content());
    request.set("producer", mapper.valueToTree(artifact.producer()));
    return request;
  }

  private String contentJson(JsonNode content) {
    return new String(canonical.bytes(content), StandardCharsets.UTF_8);
  }

  private static ProblemException notFound(UUID workflowId, String name) {
    return ProblemException.notFound("artifact", name + " of workflow " + workflowId);
  }

  private static Counter writes(MeterRegistry registry, String outcome) {
    return Counter.builder("atelier.context.artifact.writes")
        .description(
            "Artifact writes, by outcome (created a version, or replayed an idempotent one)")
        .tag("outcome", outcome)
        .register(registry);
  }
}
