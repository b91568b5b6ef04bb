package dev.atelier.worker.service;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.AbsoluteIri;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SchemaValidatorsConfig;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.SpecVersionDetector;
import com.networknt.schema.ValidationMessage;
import com.networknt.schema.regex.RegularExpression;
import com.networknt.schema.resource.InputStreamSource;
import dev.atelier.contracts.Utf16;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Checks a model's answer against the role's output JSON Schema (networknt json-schema-validator;
 * the dialect comes from {@code $schema}, 2020-12 when absent). Compiled schemas are cached by
 * their text: a handful of role versions are in use at any time.
 *
 * <p>A schema is self-contained: it may refer to its own parts ({@code #...}) and to the bundled
 * meta-schemas of the supported dialects, nothing else. The library would otherwise fetch any other
 * {@code $ref}, {@code $schema} or {@code $id}-relative URI (http:, file:, jar:, classpath:) with
 * no timeout, so a role definition could make every worker call an inner address, hang on it, or
 * quote a local file back in an error message.
 *
 * <p>{@code pattern} and {@code patternProperties} use {@code java.util.regex} as the library does
 * by default, but a match that runs over {@link #PATTERN_TIME_LIMIT} (catastrophic backtracking on
 * the model's answer) is given up, and the step fails as its schema's fault.
 */
@ApplicationScoped
public class OutputValidator {

  private static final int CACHE_SIZE = 64;
  private static final Pattern FENCED =
      Pattern.compile("^```[a-zA-Z0-9_-]*\\s*\\n(.*)\\n\\s*```$", Pattern.DOTALL);

  /**
   * The meta-schemas the library ships, as its own mapper rewrites {@code json-schema.org} URIs
   * (e.g. {@code classpath:draft/2020-12/meta/core}).
   */
  private static final Pattern BUNDLED_META_SCHEMA =
      Pattern.compile(
          "classpath:(draft-0[467]/schema|draft/(2019-09|2020-12)/(schema|meta/[a-z-]+))");

  /** Longest one regular expression of a schema may take on one string of an answer. */
  static final Duration PATTERN_TIME_LIMIT = Duration.ofSeconds(1);

  private final ObjectMapper mapper;
  private final Map<String, JsonSchema> compiled =
      Collections.synchronizedMap(
          new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, JsonSchema> eldest) {
              return size() > CACHE_SIZE;
            }
          });

  OutputValidator(ObjectMapper mapper) {
    this.mapper = mapper;
  }

  /**
   * Compiles an output schema.
   *
   * @throws StepFailure {@code request_invalid} when it is not a usable JSON Schema
   */
  public JsonSchema compile(JsonNode schema) {
    if (schema == null || !schema.isObject()) {
      throw new StepFailure(
          StepFailure.REQUEST_INVALID, false, "the agent's output schema is not a JSON object");
    }
    String key = schema.toString();
    JsonSchema cached = compiled.get(key);
    if (cached != null) {
      return cached;
    }
    try {
      SpecVersion.VersionFlag dialect =
          SpecVersionDetector.detectOptionalVersion(schema, false)
              .orElse(SpecVersion.VersionFlag.V202012);
      JsonSchema result =
          JsonSchemaFactory.getInstance(
                  dialect,
                  factory ->
                      factory.schemaLoaders(loaders -> loaders.add(OutputValidator::bundled)))
              .getSchema(
                  schema,
                  SchemaValidatorsConfig.builder(new SchemaValidatorsConfig())
                      .regularExpressionFactory(TimedRegex::new)
                      .build());
      // Resolves every reference now, so a refused one fails here, before any LLM call.
      result.initializeValidators();
      compiled.put(key, result);
      return result;
    } catch (RuntimeException e) {
      ExternalReference external = cause(e, ExternalReference.class);
      if (external != null) {
        throw new StepFailure(
            StepFailure.REQUEST_INVALID,
            false,
            "the agent's output schema refers to "
                + external.getMessage()
                + ", outside itself; only references to its own parts (#...) are allowed");
      }
      throw new StepFailure(
          StepFailure.REQUEST_INVALID,
          false,
          "the agent's output schema is not a valid JSON Schema: " + e.getMessage());
    }
  }

  /**
   * The first loader asked for any URI a schema names: it lets the library's classpath loader (next
   * in line) load a bundled meta-schema, and refuses everything else before anything is read.
   */
  private static InputStreamSource bundled(AbsoluteIri iri) {
    if (BUNDLED_META_SCHEMA.matcher(iri.toString()).matches()) {
      return null;
    }
    throw new ExternalReference(iri.toString());
  }

  private static <T extends Throwable> T cause(Throwable e, Class<T> type) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (type.isInstance(t)) {
        return type.cast(t);
      }
    }
    return null;
  }

  private static String abbreviated(String pattern) {
    return Clip.clip(pattern, 80);
  }

  /** A schema's regular expression, as the library compiles it, with a time limit per match. */
  private static final class TimedRegex implements RegularExpression {
    private final Pattern pattern;

    TimedRegex(String regex) {
      this.pattern = Pattern.compile(regex);
    }

    @Override
    public boolean matches(String value) {
      long until = System.nanoTime() + PATTERN_TIME_LIMIT.toNanos();
      return pattern.matcher(new TimedText(value, until, pattern.pattern())).find();
    }
  }

  /**
   * The text a pattern is matched against, which stops the match once its time is up: the regex
   * engine reads every character through {@link #charAt}, backtracking included.
   */
  private record TimedText(String text, long until, String pattern) implements CharSequence {

    @Override
    public char charAt(int index) {
      if (System.nanoTime() - until > 0) {
        throw new TooSlow(pattern);
      }
      return text.charAt(index);
    }

    @Override
    public int length() {
      return text.length();
    }

    @Override
    public CharSequence subSequence(int start, int end) {
      return text.subSequence(start, end);
    }

    @Override
    public String toString() {
      return text;
    }
  }

  /** A pattern ran out of time. */
  private static final class TooSlow extends RuntimeException {
    TooSlow(String pattern) {
      super(pattern, null, false, false);
    }
  }

  /** A schema named a URI that is neither its own nor a bundled meta-schema. */
  private static final class ExternalReference extends RuntimeException {
    ExternalReference(String uri) {
      super(uri, null, false, false);
    }
  }

  /**
   * Parses and validates an answer. A JSON document wrapped in a Markdown code fence is accepted,
   * since models without structured-output support often answer that way.
   *
   * @throws StepFailure {@code request_invalid} when a pattern of the schema runs out of time
   */
  public Result check(JsonSchema schema, String answer) {
    if (answer == null || answer.isBlank()) {
      return Result.invalid(List.of("the answer is empty"));
    }
    String text = answer.strip();
    Matcher fenced = FENCED.matcher(text);
    if (fenced.matches()) {
      text = fenced.group(1);
    }
    JsonNode value;
    try {
      value = mapper.reader().with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).readTree(text);
    } catch (JsonProcessingException e) {
      return Result.invalid(
          List.of(
              "the answer is not valid JSON: "
                  + e.getOriginalMessage().lines().findFirst().orElse("")));
    }
    List<String> errors = new ArrayList<>();
    unstorableText(value, "").ifPresent(errors::add);
    List<String> schemaErrors;
    try {
      schemaErrors = schema.validate(value).stream().map(ValidationMessage::getMessage).toList();
    } catch (RuntimeException e) {
      TooSlow slow = cause(e, TooSlow.class);
      if (slow == null) {
        throw e;
      }
      throw new StepFailure(
          StepFailure.REQUEST_INVALID,
          false,
          "the output schema's pattern "
              + abbreviated(slow.getMessage())
              + " took over "
              + PATTERN_TIME_LIMIT.toMillis()
              + " ms on one string of the answer; simplify it (nested quantifiers backtrack"
              + " without end)");
    } catch (StackOverflowError e) {
      // A role definition stored before the orchestrator refused such schemas. Not retryable, and
      // not an Error escaping the step: its delivery would come back up to the queue's delivery
      // limit, each time paying the model again.
      throw new StepFailure(
          StepFailure.REQUEST_INVALID,
          false,
          "validating the answer against the output schema never ended: the schema refers to"
              + " itself without descending into the answer (a $ref cycle through $ref, allOf,"
              + " anyOf, oneOf, not, if/then/else), or the answer nests too deep");
    }
    schemaErrors.stream().sorted().forEach(errors::add);
    return errors.isEmpty() ? new Result(value, List.of()) : new Result(null, List.copyOf(errors));
  }

  /**
   * The first key or string in an answer that cannot become an artifact: one holding U+0000, which
   * PostgreSQL's text and jsonb cannot store (context-service refuses it), or a lone UTF-16
   * surrogate, which is not a character and would be stored as {@code ?}. Such text is a broken
   * answer, so it is sent back for repair like any other non-conforming one.
   */
  static Optional<String> unstorableText(JsonNode node, String pointer) {
    if (node.isTextual()) {
      return unstorable(node.textValue())
          .map(what -> (pointer.isEmpty() ? "the answer" : "the string at " + pointer) + what);
    }
    if (node.isArray()) {
      for (int i = 0; i < node.size(); i++) {
        Optional<String> found = unstorableText(node.get(i), pointer + "/" + i);
        if (found.isPresent()) {
          return found;
        }
      }
      return Optional.empty();
    }
    for (Map.Entry<String, JsonNode> field : node.properties()) {
      String child =
          pointer + "/" + printable(field.getKey().replace("~", "~0").replace("/", "~1"));
      Optional<String> inKey = unstorable(field.getKey()).map(what -> "the key of " + child + what);
      Optional<String> found = inKey.isPresent() ? inKey : unstorableText(field.getValue(), child);
      if (found.isPresent()) {
        return found;
      }
    }
    return Optional.empty();
  }

  /** A key as it can be quoted in an error: control characters and surrogates escaped. */
  private static String printable(String key) {
    StringBuilder out = new StringBuilder(key.length());
    key.chars()
        .forEach(
            c -> {
              if (Character.isISOControl(c) || Character.isSurrogate((char) c)) {
                out.append(String.format("\\u%04X", c));
              } else {
                out.append((char) c);
              }
            });
    return out.toString();
  }

  private static Optional<String> unstorable(String text) {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '\0') {
        return Optional.of(" contains the character U+0000, which cannot be stored; leave it out");
      }
      if (Utf16.unpairedSurrogateAt(text, i)) {
        return Optional.of(
            String.format(
                " contains a lone surrogate \\u%04X, which is not a character; leave it out",
                (int) c));
      }
    }
    return Optional.empty();
  }

  /**
   * A validated answer, or the reasons it is not one.
   *
   * @param value the parsed answer when valid, else {@code null}
   */
  public record Result(JsonNode value, List<String> errors) {

    static Result invalid(List<String> errors) {
      return new Result(null, errors);
    }

    public boolean valid() {
      return errors.isEmpty();
    }
  }
}
