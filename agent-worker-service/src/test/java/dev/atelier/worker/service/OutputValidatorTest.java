package dev.atelier.worker.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonSchema;
import org.junit.jupiter.api.Test;

class OutputValidatorTest {

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

  private static com.fasterxml.jackson.databind.JsonNode parse(String json) {
    try {
      return JSON.readTree(json);
    } catch (Exception e) {
      throw new IllegalArgumentException(e);
    }
  }
}
