package dev.atelier.orchestrator.service;

import com.fasterxml.jackson.databind.JsonNode;
import dev.atelier.contracts.ModelNames;
import dev.atelier.contracts.Utf16;
import dev.atelier.orchestrator.model.AgentDefinition;
import dev.atelier.orchestrator.model.DefinitionGraph;
import dev.atelier.orchestrator.model.LoopPolicy;
import dev.atelier.orchestrator.model.RetryPolicy;
import dev.atelier.orchestrator.model.StepDefinition;
import dev.atelier.orchestrator.model.WorkflowDefinition;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Checks definitions before they are stored. Each fault names the step or field and what is wrong,
 * so a 400 tells the author exactly what to fix.
 */
public final class DefinitionValidator {

  /** Names of definitions, roles, steps and artifacts. */
  public static final Pattern NAME = Pattern.compile("[a-z][a-z0-9-]{0,62}");

  /**
   * A placeholder in double braces; its name is the text between them, stripped. Possessive and
   * with no two parts matching the same text, so it takes linear time: the earlier pattern (spaces,
   * lazy name, spaces) took minutes on two braces and a few thousand spaces.
   */
  private static final Pattern PLACEHOLDER = Pattern.compile("\\{\\{([^{}]*+)}}");

  /** Longest system prompt and user prompt template, in characters. */
  static final int MAX_PROMPT_CHARS = 100_000;

  private static final int MAX_STEPS = 50;

  /**
   * Faults reported at most: one request cannot make its answer (or the work to find more) large.
   */
  static final int MAX_FAULTS = 20;

  private static final Duration MAX_TIMEOUT = Duration.ofHours(24);
  private static final Duration MAX_BACKOFF = Duration.ofHours(24);

  private static final Set<String> DIALECTS =
      Set.of(
          "http://json-schema.org/draft-04/schema#",
          "http://json-schema.org/draft-04/schema",
          "http://json-schema.org/draft-06/schema#",
          "http://json-schema.org/draft-06/schema",
          "http://json-schema.org/draft-07/schema#",
          "http://json-schema.org/draft-07/schema",
          "https://json-schema.org/draft/2019-09/schema",
          "https://json-schema.org/draft/2019-09/schema#",
          "https://json-schema.org/draft/2020-12/schema",
          "https://json-schema.org/draft/2020-12/schema#");
  private static final Pattern ANCHOR = Pattern.compile("[A-Za-z_][-A-Za-z0-9._]*");
  // Keywords whose values are instance data, not schemas: a "$ref" inside them is just data.
  private static final Set<String> INSTANCE_VALUES = Set.of("enum", "const", "default", "examples");

  /** Beyond these an output schema is refused before its references are checked. */
  static final int MAX_SCHEMA_DEPTH = 64;

  static final int MAX_SCHEMA_NODES = 10_000;
  private static final int MAX_SCHEMA_FAULTS = 20;
  private static final int MAX_POINTER_SEGMENT = 64;
  private static final String HALF_PAIR =
      "outputSchema holds half of a UTF-16 surrogate pair in a name or a text, which cannot be"
          + " stored";

  private DefinitionValidator() {}

  /**
   * Faults of an agent definition; empty when valid.
   *
   * @param name the name it is stored under
   */
  public static List<String> validate(String name, AgentDefinition agent) {
    Faults faults = new Faults();
    if (name == null || !NAME.matcher(name).matches()) {
      faults.add("name '" + name + "' must match " + NAME.pattern());
    }
    if (agent.name() != null && !agent.name().equals(name)) {
      faults.add("name '" + agent.name() + "' in the body differs from '" + name + "'");
    }
    if (blank(agent.systemPrompt())) {
      faults.add("systemPrompt is required");
    } else if (agent.systemPrompt().length() > MAX_PROMPT_CHARS) {
      faults.add("systemPrompt is longer than " + MAX_PROMPT_CHARS + " characters");
    }
    if (blank(agent.userPromptTemplate())) {
      faults.add("userPromptTemplate is required");
    } else if (agent.userPromptTemplate().length() > MAX_PROMPT_CHARS) {
      faults.add("userPromptTemplate is longer than " + MAX_PROMPT_CHARS + " characters");
    } else {
      for (String p : placeholders(agent.userPromptTemplate())) {
        if (faults.full()) {
          break;
        }
        boolean known =
            p.equals("requirement")
                || p.equals("feedback")
                || (p.startsWith("input:") && NAME.matcher(p.substring(6)).matches());
        if (!known) {
          faults.add(
              "userPromptTemplate has an unknown placeholder {{"
                  + p
                  + "}} (use {{requirement}}, {{feedback}} or {{input:<artifact>}})");
        }
      }
    }
    if (agent.outputArtifact() == null || !NAME.matcher(agent.outputArtifact()).matches()) {
      faults.add("outputArtifact '" + agent.outputArtifact() + "' must match " + NAME.pattern());
    }
    JsonNode schema = agent.outputSchema();
    if (schema == null || !schema.isObject()) {
      faults.add("outputSchema must be a JSON Schema object");
    } else {
      if (!"object".equals(schema.path("type").asText())) {
        faults.add("outputSchema must describe an object (\"type\": \"object\")");
      }
      String tooLarge = schemaSizeFault(schema);
      if (tooLarge != null) {
        faults.add(tooLarge);
      } else {
        checkSchemaReferences(schema, new ArrayDeque<>(List.of("/outputSchema")), faults);
        SchemaCycles.find(schema, "/outputSchema")
            .ifPresent(
                cycle ->
                    faults.add(
                        "outputSchema: "
                            + String.join(" -> ", cycle)
                            + " refers back to itself without descending into the answer ($ref,"
                            + " allOf, anyOf, oneOf, not, if/then/else, dependentSchemas), so"
                            + " validating an answer would never end"));
      }
    }
    // Names the gateway would refuse on every call of the role.
    if (blank(agent.model())) {
      faults.add("model must not be blank");
    } else {
      Optional.ofNullable(ModelNames.fault(agent.model())).ifPresent(f -> faults.add("model " + f));
    }
    boolean blankFallback = false;
    for (int i = 0; i < agent.fallbackModels().size(); i++) {
      String fallback = agent.fallbackModels().get(i);
      String fault = blank(fallback) ? null : ModelNames.fault(fallback);
      blankFallback |= blank(fallback);
      if (fault != null) {
        faults.add("fallbackModels[" + i + "] " + fault);
      }
    }
    if (blankFallback) {
      faults.add("fallbackModels must not contain blank names");
    }
    BigDecimal t = agent.temperature();
    if (t != null && (t.signum() < 0 || t.compareTo(BigDecimal.valueOf(2)) > 0)) {
      faults.add("temperature " + t + " must be between 0 and 2");
    }
    Integer max = agent.maxTokens();
    if (max != null && (max < 1 || max > 1_000_000)) {
      faults.add("maxTokens " + max + " must be between 1 and 1000000");
    }
    return faults.list();
  }

  /**
   * Faults of a workflow definition; empty when valid.
   *
   * @param name the name it is stored under
   * @param agents the current agent definitions by role
   */
  public static List<String> validate(
      String name, WorkflowDefinition workflow, Map<String, AgentDefinition> agents) {
    Faults faults = new Faults();
    if (name == null || !NAME.matcher(name).matches()) {
      faults.add("name '" + name + "' must match " + NAME.pattern());
    }
    if (workflow.name() != null && !workflow.name().equals(name)) {
      faults.add("name '" + workflow.name() + "' in the body differs from '" + name + "'");
    }
    List<StepDefinition> steps = workflow.steps();
    if (steps.isEmpty()) {
      faults.add("steps must not be empty");
      return faults.list();
    }
    if (steps.size() > MAX_STEPS) {
      faults.add("a workflow has at most " + MAX_STEPS + " steps, not " + steps.size());
    }
    Set<String> ids = new HashSet<>();
    for (int i = 0; i < steps.size(); i++) {
      StepDefinition s = steps.get(i);
      if (s.id() == null || !NAME.matcher(s.id()).matches()) {
        faults.add("steps[" + i + "].id '" + s.id() + "' must match " + NAME.pattern());
      } else if (!ids.add(s.id())) {
        faults.add("step id '" + s.id() + "' is used twice");
      }
      // A step needs at most every other step and reads at most one artifact of each.
      if (s.needs().size() > MAX_STEPS) {
        faults.add(
            "steps[" + i + "].needs has " + s.needs().size() + " entries, at most " + MAX_STEPS);
      }
      if (s.inputs().size() > MAX_STEPS) {
        faults.add(
            "steps[" + i + "].inputs has " + s.inputs().size() + " entries, at most " + MAX_STEPS);
      }
    }
    if (!faults.isEmpty()) {
      return faults.list();
    }
    for (StepDefinition s : steps) {
      String at = "step '" + s.id() + "'";
      if (blank(s.role())) {
        faults.add(at + ": role is required");
      } else if (!agents.containsKey(s.role())) {
        faults.add(at + ": unknown role '" + s.role() + "'");
      }
      Set<String> seen = new HashSet<>();
      for (String n : s.needs()) {
        if (n.equals(s.id())) {
          faults.add(at + " needs itself");
        } else if (!ids.contains(n)) {
          faults.add(at + " needs unknown step '" + n + "'");
        } else if (!seen.add(n)) {
          faults.add(at + " needs '" + n + "' twice");
        }
      }
      if (s.onReject() != null && !s.approval()) {
        faults.add(at + ": onReject needs approval: true");
      }
      checkRetry(at, s.retry(), faults);
      if (s.timeout().isNegative()
          || s.timeout().isZero()
          || s.timeout().compareTo(MAX_TIMEOUT) > 0) {
        faults.add(at + ": timeout must be positive and at most 24h");
      }
    }
    if (!faults.isEmpty()) {
      return faults.list();
    }
    DefinitionGraph graph = new DefinitionGraph(steps);
    List<String> stuck = graph.stuckOnCycles();
    if (!stuck.isEmpty()) {
      faults.add(
          "steps "
              + stuck
              + " can never start: their needs form a cycle (to repeat steps, declare a loop)");
      return faults.list();
    }
    for (StepDefinition s : steps) {
      if (faults.full()) {
        break;
      }
      String at = "step '" + s.id() + "'";
      List<String> ancestors = graph.ancestors(s.id());
      Set<String> readable = new LinkedHashSet<>();
      for (String a : ancestors) {
        AgentDefinition producer = agents.get(workflow.step(a).orElseThrow().role());
        readable.add(producer.outputArtifact());
      }
      for (String input : s.inputs()) {
        if (!readable.contains(input) && !faults.full()) {
          faults.add(
              at + " reads '" + input + "', which none of the steps it needs produces " + readable);
        }
      }
      AgentDefinition agent = agents.get(s.role());
      for (String p : placeholders(agent.userPromptTemplate())) {
        if (faults.full()) {
          break;
        }
        if (p.startsWith("input:")) {
          String artifact = p.substring(6);
          boolean available =
              readable.contains(artifact)
                  && (s.inputs().isEmpty() || s.inputs().contains(artifact));
          if (!available) {
            faults.add(
                at
                    + " ("
                    + s.role()
                    + ") reads {{"
                    + p
                    + "}}, but the steps it needs produce only "
                    + readable);
          }
        }
      }
      if (s.onReject() != null && !ancestors.contains(s.onReject())) {
        faults.add(
            at
                + ": onReject '"
                + s.onReject()
                + "' must be a step it needs, directly or not "
                + ancestors);
      }
      if (s.loop() != null) {
        checkLoop(at, s, s.loop(), ancestors, agent, faults);
      }
    }
    return faults.list();
  }

  private static void checkLoop(
      String at,
      StepDefinition s,
      LoopPolicy loop,
      List<String> ancestors,
      AgentDefinition agent,
      Faults faults) {
    if (blank(loop.onVerdict())) {
      faults.add(at + ": loop.onVerdict is required");
    } else {
      JsonNode verdicts = agent.outputSchema().path("properties").path("verdict").path("enum");
      if (!agent.outputSchema().path("properties").has("verdict")) {
        faults.add(
            at + ": loop on a verdict, but role '" + s.role() + "' gives no verdict property");
      } else if (verdicts.isArray()) {
        boolean listed = false;
        for (JsonNode v : verdicts) {
          listed |= v.asText().equals(loop.onVerdict());
        }
        if (!listed) {
          faults.add(
              at
                  + ": loop.onVerdict '"
                  + loop.onVerdict()
                  + "' is not a verdict role '"
                  + s.role()
                  + "' can give "
                  + verdicts);
        }
      }
    }
    if (blank(loop.to())) {
      faults.add(at + ": loop.to is required");
    } else if (!ancestors.contains(loop.to())) {
      faults.add(at + ": loop.to '" + loop.to() + "' must be a step it needs (directly or not)");
    }
    if (loop.maxIterations() < 1 || loop.maxIterations() > 10) {
      faults.add(at + ": loop.maxIterations must be between 1 and 10");
    }
  }

  /**
   * The worker validates every answer against the schema, and a validator follows a {@code $ref},
   * {@code $schema} or {@code $id} that names another document: it would fetch it (any URL, a file,
   * a jar), on every step. So a schema must be self-contained: references within it ({@code #...})
   * and the standard dialects only. Each fault names its JSON pointer in the request body.
   */
  private static void checkSchemaReferences(JsonNode node, Deque<String> path, Faults faults) {
    if (node.isArray()) {
      for (int i = 0; i < node.size(); i++) {
        path.addLast(Integer.toString(i));
        checkSchemaReferences(node.get(i), path, faults);
        path.removeLast();
      }
      return;
    }
    if (!node.isObject()) {
      return;
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> field = it.next();
      String key = field.getKey();
      JsonNode value = field.getValue();
      path.addLast(key);
      if (value.isTextual()) {
        String fault = referenceFault(key, value.asText());
        if (fault != null && faults.size() < MAX_SCHEMA_FAULTS) {
          // The pointer is built only for a fault: built at every level, the pointers of a deep
          // schema with long names take memory in the square of its size.
          faults.add("outputSchema: " + pointer(path) + " " + fault);
        }
      } else if (!INSTANCE_VALUES.contains(key)) {
        checkSchemaReferences(value, path, faults);
      }
      path.removeLast();
    }
  }

  /** A JSON pointer of {@code path} (its first element the root's), long names abbreviated. */
  static String pointer(Iterable<String> path) {
    StringBuilder pointer = new StringBuilder();
    boolean root = true;
    for (String segment : path) {
      if (root) {
        pointer.append(segment);
        root = false;
        continue;
      }
      // Cut before escaping, and never inside a surrogate pair: the fault is text the client reads.
      String name =
          segment.length() > MAX_POINTER_SEGMENT
              ? segment.substring(0, Utf16.cutAt(segment, MAX_POINTER_SEGMENT)) + "\u2026"
              : segment;
      pointer.append('/').append(name.replace("~", "~0").replace("/", "~1"));
    }
    return pointer.toString();
  }

  /**
   * Why the schema is too large to check (and for the worker to validate answers against at every
   * step), or null. Counted without recursion, before anything else reads it.
   */
  private static String schemaSizeFault(JsonNode schema) {
    Deque<JsonNode> nodes = new ArrayDeque<>();
    Deque<Integer> depths = new ArrayDeque<>();
    nodes.push(schema);
    depths.push(1);
    int count = 0;
    while (!nodes.isEmpty()) {
      JsonNode node = nodes.pop();
      int depth = depths.pop();
      if (depth > MAX_SCHEMA_DEPTH) {
        return "outputSchema is nested more than " + MAX_SCHEMA_DEPTH + " levels deep";
      }
      if (++count > MAX_SCHEMA_NODES) {
        return "outputSchema has more than " + MAX_SCHEMA_NODES + " values";
      }
      if (node.isTextual() && Utf16.firstUnpairedSurrogate(node.textValue()) >= 0) {
        return HALF_PAIR;
      }
      for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
        if (Utf16.firstUnpairedSurrogate(it.next().getKey()) >= 0) {
          return HALF_PAIR;
        }
      }
      for (JsonNode child : node) {
        nodes.push(child);
        depths.push(depth + 1);
      }
    }
    return null;
  }

  /** Why a keyword's value points outside the schema, or null when it does not. */
  private static String referenceFault(String keyword, String value) {
    switch (keyword) {
      case "$ref", "$dynamicRef", "$recursiveRef" -> {
        return value.startsWith("#")
            ? null
            : "must refer within the schema (start with '#'); other documents are not fetched";
      }
      case "$schema" -> {
        return DIALECTS.contains(value)
            ? null
            : "must be a standard JSON Schema dialect (draft-04, -06, -07, 2019-09 or 2020-12)";
      }
      case "$id", "id" -> {
        // A base URI makes the validator resolve even '#...' references against another document.
        return value.startsWith("#") ? null : "must not set a base URI (only '#name' is allowed)";
      }
      case "$anchor", "$dynamicAnchor" -> {
        return ANCHOR.matcher(value).matches() ? null : "must be a plain name, not a URI";
      }
      default -> {
        return null;
      }
    }
  }

  private static void checkRetry(String at, RetryPolicy r, Faults faults) {
    if (r.maxAttempts() < 1 || r.maxAttempts() > 20) {
      faults.add(at + ": retry.maxAttempts must be between 1 and 20");
    }
    if (r.initialBackoff().isNegative() || r.initialBackoff().compareTo(MAX_BACKOFF) > 0) {
      faults.add(at + ": retry.initialBackoff must be between 0 and 24h");
    }
    if (r.maxBackoff().compareTo(r.initialBackoff()) < 0
        || r.maxBackoff().compareTo(MAX_BACKOFF) > 0) {
      faults.add(at + ": retry.maxBackoff must be at least initialBackoff and at most 24h");
    }
    // Written so that NaN (JSON "NaN") is out of range too.
    if (!(r.multiplier() >= 1 && r.multiplier() <= 10)) {
      faults.add(at + ": retry.multiplier must be between 1 and 10");
    }
    if (!(r.jitter() >= 0 && r.jitter() <= 1)) {
      faults.add(at + ": retry.jitter must be between 0 and 1");
    }
    if (r.nonRetryableErrors().stream().anyMatch(DefinitionValidator::blank)) {
      faults.add(at + ": retry.nonRetryableErrors must not contain blank codes");
    }
  }

  static List<String> placeholders(String template) {
    List<String> result = new ArrayList<>();
    Matcher m = PLACEHOLDER.matcher(template == null ? "" : template);
    while (m.find()) {
      // The spaces the worker's renderer allows around a name: ASCII whitespace, as regex \s.
      result.add(m.group(1).replaceAll("^\\s+|\\s+$", ""));
    }
    return result;
  }

  /**
   * The faults found, at most {@link #MAX_FAULTS} of them; {@link #full} tells the loops that could
   * find many more to stop looking.
   */
  private static final class Faults {
    private final List<String> kept = new ArrayList<>();

    void add(String fault) {
      if (!full()) {
        kept.add(fault);
      }
    }

    boolean isEmpty() {
      return kept.isEmpty();
    }

    int size() {
      return kept.size();
    }

    boolean full() {
      return kept.size() >= MAX_FAULTS;
    }

    List<String> list() {
      if (!full()) {
        return kept;
      }
      List<String> all = new ArrayList<>(kept);
      all.add(
          "(at most " + MAX_FAULTS + " faults are listed: there may be more once these are fixed)");
      return all;
    }
  }

  private static boolean blank(String s) {
    return s == null || s.isBlank();
  }
}
