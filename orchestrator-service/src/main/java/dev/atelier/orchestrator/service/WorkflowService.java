package dev.atelier.orchestrator.service;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.atelier.kit.db.StorableTime;
import dev.atelier.kit.ids.TimeOrderedIds;
import dev.atelier.kit.problem.ProblemException;
import dev.atelier.kit.tracing.TraceContexts;
import dev.atelier.orchestrator.config.OrchestratorConfig;
import dev.atelier.orchestrator.model.WorkflowRun;
import dev.atelier.orchestrator.model.WorkflowStatus;
import dev.atelier.orchestrator.repository.StepRepository;
import dev.atelier.orchestrator.repository.WorkflowRepository;
import dev.atelier.orchestrator.repository.WorkflowRepository.PageQuery;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Scope;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.regex.Pattern;

/** Submitting workflows and reading them back. */
@ApplicationScoped
public class WorkflowService {

  static final AttributeKey<String> OPERATION_NAME =
      AttributeKey.stringKey("gen_ai.operation.name");
  static final AttributeKey<String> WORKFLOW_ID = AttributeKey.stringKey("atelier.workflow.id");
  static final AttributeKey<String> WORKFLOW_DEFINITION =
      AttributeKey.stringKey("atelier.workflow.definition");
  private static final Pattern METADATA_KEY = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:/-]*");
  private static final int IDEMPOTENCY_KEY_MAX = 255;

  /** A page of workflows and the cursor of the next one, or {@code null} at the end. */
  public record Page(List<WorkflowRun> items, String nextCursor) {}

  private final OrchestratorConfig config;
  private final WorkflowCreation creation;
  private final WorkflowRepository workflows;
  private final StepRepository steps;
  private final Tracer tracer;
  private final TraceContexts traces;
  private final ObjectMapper mapper;

  WorkflowService(
      OrchestratorConfig config,
      WorkflowCreation creation,
      WorkflowRepository workflows,
      StepRepository steps,
      Tracer tracer,
      TraceContexts traces,
      ObjectMapper mapper) {
    this.config = config;
    this.creation = creation;
    this.workflows = workflows;
    this.steps = steps;
    this.tracer = tracer;
    this.traces = traces;
    this.mapper = mapper;
  }

  /**
   * Starts a workflow, or returns the one an earlier request with the same idempotency key started.
   * Runs in an {@code invoke_workflow} span whose context the workflow keeps, so every later step
   * of it joins this trace.
   */
  public WorkflowDetails submit(SubmitWorkflow request, String idempotencyKey) {
    OrchestratorConfig.Submission limits = config.submission();
    int bytes = request.requirement().getBytes(StandardCharsets.UTF_8).length;
    if (bytes > limits.requirementMaxBytes()) {
      throw ProblemException.tooLarge(
          "requirement-too-large",
          "the requirement is %d bytes of UTF-8; the limit is %d bytes"
              .formatted(bytes, limits.requirementMaxBytes()));
    }
    if (idempotencyKey != null
        && (idempotencyKey.isBlank() || idempotencyKey.length() > IDEMPOTENCY_KEY_MAX)) {
      throw ProblemException.badRequest(
          "invalid-idempotency-key",
          "the Idempotency-Key header must be 1 to " + IDEMPOTENCY_KEY_MAX + " characters");
    }
    Map<String, String> metadata = checkMetadata(request.metadata(), limits);
    String definition = orDefault(request.definition(), limits.defaultDefinition());
    String team = orDefault(request.team(), limits.defaultTeam());
    String title =
        request.title() == null || request.title().isBlank()
            ? titleOf(request.requirement(), limits.titleMaxLength())
            : request.title().strip();
    UUID id = TimeOrderedIds.next();
    Span span =
        tracer
            .spanBuilder("invoke_workflow " + definition)
            .setAttribute(OPERATION_NAME, "invoke_workflow")
            .setAttribute(WORKFLOW_DEFINITION, definition)
            .setAttribute(WORKFLOW_ID, id.toString())
            .startSpan();
    try (Scope ignored = span.makeCurrent()) {
      WorkflowDetails details =
          creation.create(
              new WorkflowCreation.Command(
                  id,
                  title,
                  request.requirement(),
                  definition,
                  team,
                  request.budgetUsd(),
                  metadata,
                  traces.capture(),
                  TraceContexts.currentTraceId(),
                  idempotencyKey,
                  requestHash(request, definition, team, metadata)));
      if (!details.created()) {
        // An idempotent replay: the span names the workflow that answers it.
        span.setAttribute(WORKFLOW_ID, details.workflow().id().toString());
      }
      return details;
    } catch (RuntimeException e) {
      span.recordException(e);
      span.setStatus(StatusCode.ERROR, e.getMessage());
      throw e;
    } finally {
      span.end();
    }
  }

  /** A workflow and its steps, read from one snapshot. */
  @Transactional(Transactional.TxType.REQUIRES_NEW)
  public WorkflowDetails find(String id) {
    UUID uuid = parseId(id);
    workflows.readOneSnapshot();
    WorkflowRun workflow =
        workflows.find(uuid).orElseThrow(() -> ProblemException.notFound("workflow", id));
    return new WorkflowDetails(workflow, steps.findByWorkflow(uuid), false);
  }

  /** Workflows newest first, filtered, {@code limit} at a time. */
  public Page list(
      String status,
      String team,
      String definition,
      String createdFrom,
      String createdTo,
      Integer limit,
      String cursor) {
    OrchestratorConfig.Submission limits = config.submission();
    int size = limit == null ? limits.pageSizeDefault() : limit;
    if (size < 1 || size > limits.pageSizeMax()) {
      throw ProblemException.badRequest(
          "invalid-limit", "limit must be between 1 and " + limits.pageSizeMax());
    }
    WorkflowStatus wanted;
    try {
      wanted = status == null || status.isBlank() ? null : WorkflowStatus.of(status);
    } catch (IllegalArgumentException e) {
      throw ProblemException.badRequest(
          "invalid-status", "status must be one of " + WorkflowStatus.names());
    }
    Instant from = instant("createdFrom", createdFrom);
    Instant to = instant("createdTo", createdTo);
    Instant beforeCreatedAt = null;
    UUID beforeId = null;
    if (cursor != null && !cursor.isBlank()) {
      try {
        String[] parts =
            new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8).split("\\|");
        beforeCreatedAt = Instant.parse(parts[0]);
        beforeId = UUID.fromString(parts[1]);
        if (!StorableTime.holds(beforeCreatedAt)) {
          // Never issued (stored rows are within it), and PostgreSQL could not compare with it.
          throw new IllegalArgumentException("not a cursor");
        }
      } catch (RuntimeException e) {
        throw ProblemException.badRequest("invalid-cursor", "cursor is not one this API returned");
      }
    }
    List<WorkflowRun> rows =
        workflows.page(
            new PageQuery(
                wanted,
                blankToNull(team),
                blankToNull(definition),
                from,
                to,
                beforeCreatedAt,
                beforeId,
                size + 1));
    String next = null;
    if (rows.size() > size) {
      rows = rows.subList(0, size);
      WorkflowRun last = rows.get(size - 1);
      next =
          Base64.getUrlEncoder()
              .withoutPadding()
              .encodeToString(
                  (last.createdAt() + "|" + last.id()).getBytes(StandardCharsets.UTF_8));
    }
    return new Page(rows, next);
  }

  private static Instant instant(String name, String value) {
    if (value == null || value.isBlank()) {
      return null;
    }
    Instant instant;
    try {
      instant = Instant.parse(value.strip());
    } catch (java.time.format.DateTimeParseException e) {
      throw ProblemException.badRequest(
          "invalid-" + name, name + " must be an ISO-8601 instant such as 2026-01-31T12:00:00Z");
    }
    if (!StorableTime.holds(instant)) {
      throw ProblemException.badRequest(
          "invalid-" + name,
          name + " must be between " + StorableTime.MIN + " and " + StorableTime.MAX);
    }
    return instant;
  }

  private static UUID parseId(String id) {
    try {
      return UUID.fromString(id);
    } catch (IllegalArgumentException e) {
      throw new ProblemException(
          404, "not-found", "Not found", "workflow " + id + " does not exist (ids are UUIDs)");
    }
  }

  private Map<String, String> checkMetadata(
      Map<String, String> metadata, OrchestratorConfig.Submission limits) {
    if (metadata == null) {
      return Map.of();
    }
    if (metadata.size() > limits.metadataMaxEntries()) {
      throw ProblemException.badRequest(
          "invalid-metadata", "metadata has at most " + limits.metadataMaxEntries() + " entries");
    }
    Map<String, String> result = new LinkedHashMap<>();
    for (Map.Entry<String, String> e : metadata.entrySet()) {
      String key = e.getKey();
      if (key == null
          || key.length() > limits.metadataKeyMaxLength()
          || !METADATA_KEY.matcher(key).matches()) {
        throw ProblemException.badRequest(
            "invalid-metadata",
            "metadata key '"
                + key
                + "' must be 1 to "
                + limits.metadataKeyMaxLength()
                + " characters of letters, digits and . _ : / -");
      }
      if (e.getValue() == null || e.getValue().length() > limits.metadataValueMaxLength()) {
        throw ProblemException.badRequest(
            "invalid-metadata",
            "metadata value of '"
                + key
                + "' must be a string of at most "
                + limits.metadataValueMaxLength()
                + " characters");
      }
      result.put(key, e.getValue());
    }
    return result;
  }

  /** The requirement's first non-blank line, cut to {@code max} characters. */
  static String titleOf(String requirement, int max) {
    String line =
        requirement
            .lines()
            .map(String::strip)
            .filter(l -> !l.isEmpty())
            .findFirst()
            .orElse("")
            .replaceFirst("^#+\\s*", "");
    if (line.codePointCount(0, line.length()) <= max) {
      return line;
    }
    int end = line.offsetByCodePoints(0, max - 1);
    return line.substring(0, end).stripTrailing() + "…";
  }

  private String requestHash(
      SubmitWorkflow r, String definition, String team, Map<String, String> metadata) {
    Map<String, Object> canonical = new TreeMap<>();
    canonical.put("requirement", r.requirement());
    canonical.put("title", r.title());
    canonical.put("definition", definition);
    canonical.put("team", team);
    canonical.put(
        "budgetUsd",
        r.budgetUsd() == null ? null : r.budgetUsd().stripTrailingZeros().toPlainString());
    canonical.put("metadata", new TreeMap<>(metadata));
    try {
      byte[] json = mapper.writeValueAsBytes(canonical);
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(json));
    } catch (JsonProcessingException | NoSuchAlgorithmException e) {
      throw new IllegalStateException("cannot fingerprint the request", e);
    }
  }

  private static String orDefault(String value, String fallback) {
    return value == null || value.isBlank() ? fallback : value;
  }

  private static String blankToNull(String value) {
    return value == null || value.isBlank() ? null : value;
  }
}
