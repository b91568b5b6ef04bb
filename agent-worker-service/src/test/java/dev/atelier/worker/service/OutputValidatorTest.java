package dev.atelier.worker.service;

import static com.github.tomakehurst.wiremock.client.WireMock.anyRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.networknt.schema.JsonSchema;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OutputValidatorTest {

  /** Stands for an inner address a role definition might point the worker at. */
  private static WireMockServer inner;

  @BeforeAll
  static void startInner() {
    inner = new WireMockServer(options().dynamicPort().bindAddress("127.0.0.1"));
    inner.start();
  }

  @BeforeEach
  void forgetRequests() {
    inner.resetRequests();
  }

  @AfterAll
  static void stopInner() {
    inner.stop();
  }

  private static final ObjectMapper JSON = new ObjectMapper();
  private final OutputValidator validator = new OutputValidator(JSON);
  private final JsonSchema schema =
      validator.compile(
          parse(
              """
              {"type":"object","required":["summary","components"],
               "properties":{"summary":{"type":"string"},
                             "components":{"type":"array","items":{"type":"object"}}}}
              """));

  @Test
  void acceptsAConformingAnswerInACodeFence() {
    OutputValidator.Result result =
        validator.check(schema, "```json\n{\"summary\":\"ok 😀\",\"components\":[]}\n```");

    assertThat(result.valid()).isTrue();
    assertThat(result.value().path("summary").asText()).isEqualTo("ok 😀");
  }

  @Test
  void refusesANulCharacterAndSaysWhere() {
    OutputValidator.Result result =
        validator.check(schema, "{\"summary\":\"ok\",\"components\":[{\"name\":\"a\\u0000b\"}]}");

    assertThat(result.valid()).isFalse();
    assertThat(result.errors())
        .containsExactly(
            "the string at /components/0/name contains the character U+0000, which cannot be"
                + " stored; leave it out");
  }

  @Test
  void refusesANulInAKeyAndQuotesTheKeyEscaped() {
    OutputValidator.Result result =
        validator.check(schema, "{\"summary\":\"ok\",\"components\":[],\"x\\u0000y\":1}");

    assertThat(result.errors()).hasSize(1);
    assertThat(result.errors().get(0))
        .startsWith("the key of /x\\u0000y contains the character U+0000")
        .doesNotContain("\0");
  }

  @Test
  void refusesALoneSurrogateButNotAPair() {
    OutputValidator.Result lone =
        validator.check(schema, "{\"summary\":\"broken \\ud83d text\",\"components\":[]}");
    OutputValidator.Result pair =
        validator.check(schema, "{\"summary\":\"fine \\ud83d\\ude00\",\"components\":[]}");

    assertThat(lone.errors())
        .containsExactly(
            "the string at /summary contains a lone surrogate \\uD83D, which is not a character;"
                + " leave it out");
    assertThat(pair.valid()).isTrue();
  }

  @Test
  void reportsUnstorableTextTogetherWithSchemaErrors() {
    OutputValidator.Result result = validator.check(schema, "{\"summary\":\"\\u0000\"}");

    assertThat(result.errors()).hasSize(2);
    assertThat(result.errors().get(0)).contains("/summary").contains("U+0000");
    assertThat(result.errors().get(1)).contains("components");
  }

  @Test
  void refusesAReferenceToAnHttpUriWithoutRequestingIt() {
    assertRefused(
        "{\"type\":\"object\",\"properties\":{\"a\":{\"$ref\":\"" + inner.baseUrl() + "/x\"}}}",
        inner.baseUrl() + "/x");
  }

  @Test
  void refusesAnUnknownMetaSchemaWithoutRequestingIt() {
    assertRefused(
        "{\"$schema\":\"" + inner.baseUrl() + "/meta\",\"type\":\"object\"}",
        inner.baseUrl() + "/meta");
  }

  @Test
  void refusesAReferenceRelativeToAnHttpId() {
    assertRefused(
        "{\"$id\":\"" + inner.baseUrl() + "/schemas/a\",\"$ref\":\"b\"}",
        inner.baseUrl() + "/schemas/b");
  }

  @Test
  void refusesFileAndClasspathReferencesWithoutReadingThem(@TempDir Path dir) throws Exception {
    Path secret = dir.resolve("secret.json");
    Files.writeString(secret, "{\"type\":\"string\",\"description\":\"top-secret-value\"}");
    StepFailure file = refusal("{\"$ref\":\"" + secret.toUri() + "\"}", secret.toUri().toString());
    assertThat(file.getMessage()).doesNotContain("top-secret-value");
    refusal("{\"$ref\":\"classpath:application.properties\"}", "application.properties");
  }

  @Test
  void stillResolvesLocalReferencesAndTheBundledMetaSchemas() {
    JsonSchema local =
        validator.compile(
            parse(
                """
                {"$schema":"https://json-schema.org/draft/2020-12/schema",
                 "$id":"https://example.com/review",
                 "$defs":{"verdict":{"enum":["approved","changes_requested"]}},
                 "type":"object","required":["verdict"],
                 "properties":{"verdict":{"$ref":"#/$defs/verdict"},
                               "meta":{"$ref":"https://json-schema.org/draft/2020-12/schema"}}}
                """));
    assertThat(validator.check(local, "{\"verdict\":\"approved\"}").valid()).isTrue();
    assertThat(validator.check(local, "{\"verdict\":\"maybe\"}").valid()).isFalse();

    JsonSchema draft7 =
        validator.compile(
            parse(
                """
                {"$schema":"http://json-schema.org/draft-07/schema#",
                 "definitions":{"n":{"type":"integer"}},
                 "properties":{"n":{"$ref":"#/definitions/n"},
                               "s":{"$ref":"http://json-schema.org/draft-07/schema#"}}}
                """));
    assertThat(validator.check(draft7, "{\"n\":1,\"s\":{\"type\":\"string\"}}").valid()).isTrue();
    assertThat(validator.check(draft7, "{\"n\":\"one\"}").valid()).isFalse();
  }

  @Test
  void givesUpAPatternThatBacktracksWithoutEndAsTheSchemasFault() {
    JsonSchema nested =
        validator.compile(parse("{\"type\":\"string\",\"pattern\":\"^(.*a){12}$\"}"));
    assertThat(validator.check(nested, "\"" + "a".repeat(12) + "\"").valid()).isTrue();
    assertThat(validator.check(nested, "\"" + "a".repeat(11) + "\"").valid()).isFalse();

    // Every way to split 40 a's into 12 runs is tried before the mismatch: without a limit this
    // runs for hours (java.util.regex memoizes simpler nestings such as (a+)+, not this one).
    String answer = "\"" + "a".repeat(40) + "!\"";
    StepFailure failure =
        assertTimeoutPreemptively(
            Duration.ofSeconds(20),
            () -> catchThrowableOfType(StepFailure.class, () -> validator.check(nested, answer)));
    assertThat(failure).isNotNull();
    assertThat(failure.errorCode()).isEqualTo(StepFailure.REQUEST_INVALID);
    assertThat(failure.retryable()).isFalse();
    assertThat(failure.getMessage()).contains("^(.*a){12}$").contains("took over 1000 ms");
  }

  @Test
  void aSchemaThatRefersToItselfWithoutEndFailsTheStepInsteadOfOverflowing() {
    for (String cyclic :
        List.of(
            "{\"type\":\"object\",\"$ref\":\"#\"}",
            "{\"type\":\"object\",\"allOf\":[{\"$ref\":\"#\"}]}",
            "{\"type\":\"object\",\"properties\":{\"a\":{\"$ref\":\"#/properties/a\"}}}")) {
      JsonSchema schema = validator.compile(parse(cyclic));
      StepFailure failure =
          catchThrowableOfType(StepFailure.class, () -> validator.check(schema, "{\"a\":1}"));
      assertThat(failure).as(cyclic).isNotNull();
      assertThat(failure.errorCode()).isEqualTo(StepFailure.REQUEST_INVALID);
      assertThat(failure.retryable()).isFalse();
      assertThat(failure.getMessage()).contains("$ref cycle");
    }
    // Recursion that descends into the answer ends with it.
    JsonSchema tree =
        validator.compile(
            parse(
                "{\"type\":\"object\",\"properties\":{\"children\":{\"type\":\"array\","
                    + "\"items\":{\"$ref\":\"#\"}}}}"));
    assertThat(validator.check(tree, "{\"children\":[{\"children\":[{}]}]}").valid()).isTrue();
  }

  private void assertRefused(String schema, String uri) {
    StepFailure failure = compileFailure(schema);
    assertThat(inner.findAll(anyRequestedFor(anyUrl()))).isEmpty();
    assertRefusal(failure, uri);
  }

  private StepFailure refusal(String schema, String uri) {
    StepFailure failure = compileFailure(schema);
    assertRefusal(failure, uri);
    return failure;
  }

  private StepFailure compileFailure(String schema) {
    return catchThrowableOfType(StepFailure.class, () -> validator.compile(parse(schema)));
  }

  private static void assertRefusal(StepFailure failure, String uri) {
    assertThat(failure).isNotNull();
    assertThat(failure.errorCode()).isEqualTo(StepFailure.REQUEST_INVALID);
    assertThat(failure.retryable()).isFalse();
    assertThat(failure.getMessage()).contains("refers to").contains(uri);
  }

  private static com.fasterxml.jackson.databind.JsonNode parse(String json) {
    try {
      return JSON.readTree(json);
    } catch (Exception e) {
      throw new IllegalArgumentException(e);
    }
  }
}
