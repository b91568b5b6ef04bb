package dev.atelier.gateway.provider.simulated;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SchemaValidatorsConfig;
import com.networknt.schema.SpecVersion;
import dev.atelier.gateway.service.GatewayException;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Sampled values are valid against their schema, per a real JSON Schema validator. */
class SchemaSamplerTest {

  static final ObjectMapper MAPPER = new ObjectMapper();
  static final PromptWords PROMPT =
      new PromptWords("Invoice export for accountants: export invoices as CSV every month.");

  @ParameterizedTest
  @ValueSource(
      strings = {
        // nested objects, arrays with bounds, enums, const, nullable, formats
        """
        {"type":"object","additionalProperties":false,
         "required":["id","kind","version","tags","owner","due","site","score","ratio","note","flags"],
         "properties":{
           "id":{"type":"string","format":"uuid"},
           "kind":{"const":"report"},
           "version":{"type":"integer","minimum":3,"maximum":3},
           "tags":{"type":"array","items":{"type":"string","minLength":5,"maxLength":12},
                   "minItems":3,"maxItems":4,"uniqueItems":true},
           "owner":{"type":"object","required":["email"],"properties":{"email":{"type":"string","format":"email"}}},
           "due":{"type":"string","format":"date"},
           "site":{"type":"string","format":"uri"},
           "score":{"type":"integer","exclusiveMinimum":10,"exclusiveMaximum":12},
           "ratio":{"type":"number","minimum":0.5,"maximum":0.75,"multipleOf":0.05},
           "note":{"type":["string","null"],"maxLength":3},
           "flags":{"type":"array","items":{"enum":["a","b","c"]},"uniqueItems":true,"minItems":3}
         }}
        """,
        // $ref to definitions, oneOf, allOf, recursion, maps, prefixItems, empty arrays
        """
        {"$ref":"#/definitions/node",
         "definitions":{
           "node":{"type":"object","required":["name","children","meta","shape","pair","none"],
             "properties":{
               "name":{"type":"string"},
               "children":{"type":"array","items":{"$ref":"#/definitions/node"}},
               "meta":{"type":"object","additionalProperties":{"type":"integer","minimum":0}},
               "shape":{"oneOf":[{"$ref":"#/definitions/circle"},{"type":"null"}]},
               "pair":{"type":"array","prefixItems":[{"type":"string"},{"type":"boolean"}],"minItems":2},
               "none":{"type":"array","maxItems":0}
             }},
           "circle":{"allOf":[{"type":"object","required":["radius"],
                               "properties":{"radius":{"type":"number","exclusiveMinimum":0}}},
                              {"required":["label"],"properties":{"label":{"type":"string"}}}]}
         }}
        """,
        // bounds at the ends of double and long: the span overflows
        """
        {"type":"object","required":["wide","huge","big","neg","exBig","exNeg","int19","intNeg19"],
         "properties":{
           "wide":{"type":"number","minimum":-1e308,"maximum":1e308},
           "huge":{"type":"integer","minimum":-5e18,"maximum":5e18},
           "big":{"type":"number","minimum":1.7e308},
           "neg":{"type":"number","maximum":-1.7e308},
           "exBig":{"type":"number","exclusiveMinimum":1e16},
           "exNeg":{"type":"number","exclusiveMaximum":-1e16},
           "int19":{"type":"integer","minimum":1e19},
           "intNeg19":{"type":"integer","exclusiveMaximum":-1e19}}}
        """,
        // a reviewer verdict
        """
        {"type":"object","required":["verdict","comments"],"additionalProperties":false,
         "properties":{"verdict":{"type":"string","enum":["approved","changes_requested"]},
           "comments":{"type":"array","items":{"type":"object","required":["file","line","text"],
             "additionalProperties":false,
             "properties":{"file":{"type":"string"},"line":{"type":"integer","minimum":1},
               "text":{"type":"string","minLength":40}}}}}}
        """
      })
  void sampleIsValidAgainstItsSchema(String schemaJson) throws Exception {
    JsonNode schema = MAPPER.readTree(schemaJson);
    for (long seed = 0; seed < 25; seed++) {
      JsonNode value = new SchemaSampler(schema, PROMPT, seed * 7919).sample();
      var validator =
          JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012)
              .getSchema(
                  schema, SchemaValidatorsConfig.builder().formatAssertionsEnabled(true).build());
      assertThat(validator.validate(value)).as("seed %d: %s", seed, value).isEmpty();
    }
  }

  @Test
  void contentIsDeterministicAndDerivedFromThePrompt() throws Exception {
    JsonNode schema =
        MAPPER.readTree(
            """
            {"type":"object","required":["verdict","stories"],
             "properties":{"verdict":{"enum":["approved","changes_requested"]},
               "stories":{"type":"array","items":{"type":"object","required":["title","description"],
                 "properties":{"title":{"type":"string"},"description":{"type":"string"}}}}}}
            """);
    JsonNode a = new SchemaSampler(schema, PROMPT, 42).sample();
    JsonNode b = new SchemaSampler(schema, PROMPT, 42).sample();
    assertThat(a).isEqualTo(b);
    assertThat(a.path("verdict").asText()).isEqualTo("approved");
    assertThat(a.path("stories").get(0).path("title").asText())
        .isEqualTo("Invoice export: story 1");
    assertThat(a.path("stories").get(1).path("description").asText())
        .startsWith("Description of story 2 for invoice export:")
        .contains("invoices");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        // one array of two billion items
        "{\"type\":\"array\",\"minItems\":2000000000,\"items\":{\"type\":\"integer\"}}",
        // one string of a hundred million characters (and a minItems past int, also refused)
        "{\"type\":\"string\",\"minLength\":100000000}",
        "{\"type\":\"array\",\"minItems\":1e12}",
        // each within its own limit, a million strings of 100 characters together
        """
        {"type":"array","minItems":1000,"items":{"type":"array","minItems":1000,
          "items":{"type":"string","minLength":100}}}
        """,
        // past the depth limit, required properties still double at every level
        """
        {"$ref":"#/$defs/n","$defs":{"n":{"type":"object","required":["a","b"],
          "properties":{"a":{"$ref":"#/$defs/n"},"b":{"$ref":"#/$defs/n"}}}}}
        """
      })
  void aSchemaAskingForMoreThanTheLimitsIsRefusedAt400(String schemaJson) throws Exception {
    JsonNode schema = MAPPER.readTree(schemaJson);
    assertTimeoutPreemptively(
        Duration.ofSeconds(20),
        () ->
            assertThatThrownBy(() -> new SchemaSampler(schema, PROMPT, 1, "tools").sample())
                .isInstanceOfSatisfying(
                    GatewayException.class,
                    g -> {
                      assertThat(g.status()).isEqualTo(400);
                      assertThat(g.code()).isEqualTo("schema_too_large");
                      assertThat(g.param()).isEqualTo("tools");
                      assertThat(g.getMessage()).contains("does not generate");
                    }));
  }

  @Test
  void theLongestStringAndTheLongestArrayAllowedAreGenerated() throws Exception {
    JsonNode schema =
        MAPPER.readTree(
            """
            {"type":"object","required":["text","short","items"],
             "properties":{"text":{"type":"string","minLength":100000},
               "short":{"type":"string","minLength":50,"maxLength":10},
               "items":{"type":"array","minItems":1000,"items":{"type":"integer"}}}}
            """);
    JsonNode value =
        assertTimeoutPreemptively(
            Duration.ofSeconds(20), () -> new SchemaSampler(schema, PROMPT, 3).sample());
    String text = value.path("text").asText();
    assertThat(text.codePointCount(0, text.length())).isGreaterThanOrEqualTo(100_000);
    assertThat(value.path("short").asText()).hasSizeGreaterThanOrEqualTo(50);
    assertThat(value.path("items")).hasSize(1000);
  }
}
