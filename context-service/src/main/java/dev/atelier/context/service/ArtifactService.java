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
import dev.atelier.context.model.NewArtifact;
import dev.atelier.context.repository.ArtifactRepository;
import dev.atelier.context.repository.NewVersion;
import dev.atelier.context.repository.StoredWrite;
import dev.atelier.contracts.ArtifactRef;
import dev.atelier.contracts.Headers;
import dev.atelier.kit.problem.ProblemException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.UUID;

/**
 * Writes and reads versioned artifacts. Every write appends a version; a write retried with the
 * same idempotency key returns the version it wrote the first time.
 */
@ApplicationScoped
public class ArtifactService {

  private final ArtifactRepository repository;
  private final CanonicalJson canonical;
  private final ObjectMapper mapper;
  private final ArtifactLimits limits;
  private final Counter created;
  private final Counter replayed;

  ArtifactService(
      ArtifactRepository repository,
      CanonicalJson canonical,
      ObjectMapper mapper,
      ArtifactLimits limits,
      MeterRegistry registry) {
    this.repository = repository;
    this.canonical = canonical;
    this.mapper = mapper;
    this.limits = limits;
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
    return writeSorted(workflowId, new TreeMap<>(Map.of(key, artifact)), precondition).get(key);
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
      UUID workflowId, String idempotencyKey, List<NewArtifact> artifacts) {
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
    Map<String, WriteOutcome> outcomes = writeSorted(workflowId, byKey, null);
    return artifacts.stream().map(a -> outcomes.get(prefix + ":" + a.name())).toList();
  }

  /**
   * Reads several versions and the writes of several idempotency keys with two statements.
   *
   * @throws ProblemException 404 naming the first ref that does not exist
   */
  public ArtifactReadResult readAll(UUID workflowId, ArtifactReads reads) {
    List<ArtifactRef> refs = reads.refsOrEmpty();
    Map<ArtifactRef, ArtifactVersion> found = new HashMap<>();
    for (ArtifactVersion v : repository.findVersions(workflowId, refs)) {
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
    Map<String, ArtifactVersion> written = new LinkedHashMap<>();
    for (StoredWrite w : repository.findByIdempotencyKeys(workflowId, reads.keysOrEmpty())) {
      written.put(w.idempotencyKey(), w.version());
    }
    return new ArtifactReadResult(artifacts, written);
  }

  /**
   * Writes artifacts under their idempotency keys, with four statements however many there are:
   * lock the keys (in key order), find what they already wrote, allocate the new versions, insert
   * them. Every artifact is validated before the first statement, so bad input changes nothing.
   *
   * @param byKey artifacts by idempotency key, in key order (the order the locks are taken in)
   * @param precondition checked for every new version once its head row is locked; null for none
   * @return outcomes by idempotency key
   */
  private Map<String, WriteOutcome> writeSorted(
      UUID workflowId, SortedMap<String, NewArtifact> byKey, Precondition precondition) {
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
    Map<String, ArtifactVersion> stored = repository.insertAll(rows);
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

  public List<ArtifactSummary> versions(UUID workflowId, String name) {
    List<ArtifactSummary> versions = repository.listVersions(workflowId, name);
    if (versions.isEmpty()) {
      throw notFound(workflowId, name);
    }
    return versions;
  }

  /**
   * The latest version of each artifact. context-service keeps no workflow registry: a workflow
   * that has written nothing is unknown here, hence 404 rather than an empty list.
   */
  public List<ArtifactSummary> latestOfEach(UUID workflowId) {
    List<ArtifactSummary> latest = repository.listLatest(workflowId);
    if (latest.isEmpty()) {
      throw new ProblemException(
          404, "not-found", "Not found", "workflow " + workflowId + " has no artifacts");
    }
    return latest;
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

  /** Checks the content's shape against its kind and its size against the limit. */
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
    if (containsNul(content)) {
      // PostgreSQL text and jsonb cannot hold U+0000; refuse it here rather than fail in SQL.
      throw ProblemException.badRequest(
          "invalid-content", "content must not contain the character U+0000");
    }
    return bytes;
  }

  private static boolean containsNul(JsonNode node) {
    if (node.isTextual()) {
      return node.textValue().indexOf('\0') >= 0;
    }
    for (Map.Entry<String, JsonNode> field : node.properties()) {
      if (field.getKey().indexOf('\0') >= 0 || containsNul(field.getValue())) {
        return true;
      }
    }
    if (node.isArray()) {
      for (JsonNode element : node) {
        if (containsNul(element)) {
          return true;
        }
      }
    }
    return false;
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
