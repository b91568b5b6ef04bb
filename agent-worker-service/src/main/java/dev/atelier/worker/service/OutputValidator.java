package dev.atelier.worker.service;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.SpecVersionDetector;
import com.networknt.schema.ValidationMessage;
import jakarta.enterprise.context.ApplicationScoped;
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
 */
@ApplicationScoped
public class OutputValidator {

  private static final int CACHE_SIZE = 64;
  private static final Pattern FENCED =
      Pattern.compile("^```[a-zA-Z0-9_-]*\\s*\\n(.*)\\n\\s*```$", Pattern.DOTALL);

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
      JsonSchema result = JsonSchemaFactory.getInstance(dialect).getSchema(schema);
      result.initializeValidators();
      compiled.put(key, result);
      return result;
    } catch (RuntimeException e) {
      throw new StepFailure(
          StepFailure.REQUEST_INVALID,
          false,
          "the agent's output schema is not a valid JSON Schema: " + e.getMessage());
    }
  }

  /**
   * Parses and validates an answer. A JSON document wrapped in a Markdown code fence is accepted,
   * since models without structured-output support often answer that way.
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
    schema.validate(value).stream()
        .map(ValidationMessage::getMessage)
        .sorted()
        .forEach(errors::add);
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
      if (Character.isSurrogate(c)) {
        if (Character.isHighSurrogate(c)
            && i + 1 < text.length()
            && Character.isLowSurrogate(text.charAt(i + 1))) {
          i++;
        } else {
          return Optional.of(
              String.format(
                  " contains a lone surrogate \\u%04X, which is not a character; leave it out",
                  (int) c));
        }
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
