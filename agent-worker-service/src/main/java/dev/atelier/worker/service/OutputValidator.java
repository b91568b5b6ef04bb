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
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
    List<String> errors =
        schema.validate(value).stream().map(ValidationMessage::getMessage).sorted().toList();
    return errors.isEmpty() ? new Result(value, List.of()) : new Result(null, errors);
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
