package dev.atelier.orchestrator.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.atelier.orchestrator.model.AgentDefinition;
import dev.atelier.orchestrator.model.WorkflowDefinition;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Validation of the shipped definitions and of broken ones. */
class DefinitionValidatorTest {

  private static final List<String> ROLES =
      List.of(
          "business-analyst", "architect", "developer", "tester", "reviewer", "technical-writer");

  private final DefinitionCodec codec =
      new DefinitionCodec(new ObjectMapper().registerModule(new JavaTimeModule()));
  private final Map<String, AgentDefinition> agents = new LinkedHashMap<>();

  {
    for (String role : ROLES) {
      agents.put(
          role,
          codec
              .agent(codec.resource("definitions/agents/" + role + ".yaml"))
              .stored(role, 1, null));
    }
  }

  private ObjectNode delivery() {
    return (ObjectNode) codec.resource("definitions/workflows/software-delivery.yaml");
  }

  private List<String> faults(JsonNode definition) {
    WorkflowDefinition wf = codec.workflow(definition);
    return DefinitionValidator.validate(wf.name(), wf, agents);
  }

  @Test
  void builtInRolesAndWorkflowAreValid() {
    agents.forEach(
        (name, agent) -> assertThat(DefinitionValidator.validate(name, agent)).isEmpty());
    assertThat(faults(delivery())).isEmpty();
    assertThat(agents.get("reviewer").outputSchema().at("/properties/verdict/enum").toString())
        .isEqualTo("[\"approved\",\"changes_requested\"]");
  }

  @Test
  void unknownRoleIsNamed() {
    ObjectNode d = delivery();
    ((ObjectNode) d.withArray("steps").get(1)).put("role", "poet");
    assertThat(faults(d)).containsExactly("step 'design': unknown role 'poet'");
  }

  @Test
  void unknownNeedIsNamed() {
    ObjectNode d = delivery();
    ((ObjectNode) d.withArray("steps").get(1)).putArray("needs").add("analyze");
    assertThat(faults(d)).contains("step 'design' needs unknown step 'analyze'");
  }

  @Test
  void cycleIsNamedWithItsSteps() {
    ObjectNode d = delivery();
    ((ObjectNode) d.withArray("steps").get(0)).putArray("needs").add("document");
    assertThat(faults(d))
        .singleElement()
        .asString()
        .contains("[analyse, design, implement, test-plan, review, document]")
        .contains("cycle");
  }

  @Test
  void loopMustGoBackToAnAncestorOnAVerdictTheRoleGives() {
    ObjectNode d = delivery();
    ObjectNode loop = (ObjectNode) d.withArray("steps").get(4).get("loop");
    loop.put("to", "document").put("onVerdict", "rejected");
    assertThat(faults(d))
        .containsExactly(
            "step 'review': loop.onVerdict 'rejected' is not a verdict role 'reviewer' can give"
                + " [\"approved\",\"changes_requested\"]",
            "step 'review': loop.to 'document' must be a step it needs (directly or not)");
  }

  @Test
  void badRetryPolicyAndTimeoutAreNamed() {
    ObjectNode d = delivery();
    ObjectNode s = (ObjectNode) d.withArray("steps").get(0);
    s.putObject("retry").put("maxAttempts", 0).put("jitter", 2);
    s.put("timeout", "0s");
    assertThat(faults(d))
        .containsExactly(
            "step 'analyse': retry.maxAttempts must be between 1 and 20",
            "step 'analyse': retry.jitter must be between 0 and 1",
            "step 'analyse': timeout must be positive and at most 24h");

    // Jackson reads the JSON string "NaN" into a double: out of every range too.
    s.putObject("retry").put("maxAttempts", 3).put("multiplier", "NaN").put("jitter", "NaN");
    s.put("timeout", "1m");
    assertThat(faults(d))
        .containsExactly(
            "step 'analyse': retry.multiplier must be between 1 and 10",
            "step 'analyse': retry.jitter must be between 0 and 1");
  }

  @Test
  void tooManyNeedsOrInputsAreRefusedBeforeTheyAreChecked() {
    ObjectNode d = delivery();
    ObjectNode last = (ObjectNode) d.withArray("steps").get(5);
    var inputs = last.putArray("inputs");
    for (int i = 0; i < 250_000; i++) {
      inputs.add("x");
    }
    var needs = ((ObjectNode) d.withArray("steps").get(4)).putArray("needs");
    for (int i = 0; i < 51; i++) {
      needs.add("analyse");
    }
    assertThat(faults(d))
        .containsExactly(
            "steps[4].needs has 51 entries, at most 50",
            "steps[5].inputs has 250000 entries, at most 50");
  }

  @Test
  void atMostTwentyFaultsAreListed() {
    // A role whose template reads 5,000 artifacts no step produces: every step of a workflow
    // using it would fault 5,000 times, each fault naming what it could read.
    StringBuilder template = new StringBuilder();
    for (int i = 0; i < 5_000; i++) {
      template.append("{{input:a").append(i).append("}}");
    }
    AgentDefinition reader =
        new AgentDefinition(
            "reader",
            0,
            null,
            "You read.",
            template.toString(),
            "notes",
            agents.get("architect").outputSchema(),
            "gpt-4.1-nano",
            null,
            null,
            null,
            null);
    assertThat(DefinitionValidator.validate("reader", reader)).isEmpty();
    agents.put("reader", reader);
    ObjectNode d = delivery();
    d.withArray("steps").forEach(step -> ((ObjectNode) step).put("role", "reader"));

    List<String> faults = faults(d);

    assertThat(faults).hasSize(DefinitionValidator.MAX_FAULTS + 1);
    assertThat(faults.get(0))
        .isEqualTo(
            "step 'analyse' (reader) reads {{input:a0}}, but the steps it needs produce only []");
    assertThat(faults.get(DefinitionValidator.MAX_FAULTS))
        .isEqualTo("(at most 20 faults are listed: there may be more once these are fixed)");
  }

  @Test
  void templateInputsMustBeProducedByNeededSteps() {
    ObjectNode d = delivery();
    // The tester reads the architecture; without 'design' among its needs nothing produces it.
    ((ObjectNode) d.withArray("steps").get(3)).putArray("needs").add("analyse");
    assertThat(faults(d))
        .containsExactly(
            "step 'test-plan' (tester) reads {{input:architecture}}, but the steps it needs"
                + " produce only [analysis]");
  }

  @Test
  void agentFaultsAreNamed() {
    AgentDefinition bad =
        new AgentDefinition(
            "poet", 0, null, " ", "Write {{poem}}", "bad@name", null, null, null, null, 0, null);
    assertThat(DefinitionValidator.validate("Poet", bad))
        .containsExactly(
            "name 'Poet' must match [a-z][a-z0-9-]{0,62}",
            "name 'poet' in the body differs from 'Poet'",
            "systemPrompt is required",
            "userPromptTemplate has an unknown placeholder {{poem}} (use {{requirement}},"
                + " {{feedback}} or {{input:<artifact>}})",
            "outputArtifact 'bad@name' must match [a-z][a-z0-9-]{0,62}",
            "outputSchema must be a JSON Schema object",
            "maxTokens 0 must be between 1 and 1000000");
  }

  @Test
  void placeholdersAreFoundInLinearTime() {
    // Two braces and 20,000 spaces: the earlier pattern backtracked for hours on this (2 s at
    // 1,000 spaces, 116 s at 5,000), holding a request thread. Now milliseconds; 10 s is a hang.
    assertTimeoutPreemptively(
        Duration.ofSeconds(10),
        () -> assertThat(DefinitionValidator.placeholders("{{" + " ".repeat(20_000))).isEmpty());
    assertThat(
            DefinitionValidator.placeholders("{{ requirement }} and {{input:code}}{{{feedback}}}"))
        .containsExactly("requirement", "input:code", "feedback");
    // Only the spaces the worker's renderer skips: an em space stays part of the name (unknown).
    assertThat(DefinitionValidator.placeholders("{{\u2003requirement}}"))
        .containsExactly("\u2003requirement");
  }

  @Test
  void promptsHaveALength() throws Exception {
    String tooLong = "x".repeat(DefinitionValidator.MAX_PROMPT_CHARS + 1);
    AgentDefinition big =
        new AgentDefinition(
            "poet",
            0,
            null,
            tooLong,
            tooLong,
            "poem",
            new ObjectMapper().readTree("{\"type\":\"object\"}"),
            null,
            null,
            null,
            100,
            null);
    assertThat(DefinitionValidator.validate("poet", big))
        .containsExactly(
            "systemPrompt is longer than 100000 characters",
            "userPromptTemplate is longer than 100000 characters");
  }

  private List<String> schemaFaults(String schema) throws Exception {
    AgentDefinition reviewer = agents.get("reviewer");
    return reviewerFaults(
        new ObjectMapper().readTree(schema), reviewer.model(), reviewer.fallbackModels());
  }

  private List<String> reviewerFaults(JsonNode schema, String model, List<String> fallbacks) {
    AgentDefinition reviewer = agents.get("reviewer");
    AgentDefinition agent =
        new AgentDefinition(
            "reviewer",
            0,
            reviewer.description(),
            reviewer.systemPrompt(),
            reviewer.userPromptTemplate(),
            reviewer.outputArtifact(),
            schema,
            model,
            fallbacks,
            reviewer.temperature(),
            reviewer.maxTokens(),
            null);
    return DefinitionValidator.validate("reviewer", agent);
  }

  @Test
  void modelNamesMustBeOnesTheGatewayTakes() {
    JsonNode schema = agents.get("reviewer").outputSchema();
    assertThat(
            reviewerFaults(schema, "gpt-4o-mini\u0007", List.of("m".repeat(257), "ok", "x\ud800")))
        .containsExactly(
            "model must not contain control characters",
            "fallbackModels[0] is longer than 256 characters",
            "fallbackModels[2] must not contain half of a UTF-16 surrogate pair");
    assertThat(reviewerFaults(schema, "m".repeat(256), List.of("gpt-4o"))).isEmpty();
  }

  @Test
  void outputSchemaMustNotNameOtherDocuments() throws Exception {
    String schema =
        """
        {"$schema": "https://example.com/evil-dialect", "type": "object",
         "$id": "http://10.0.0.1/base",
         "properties": {
           "a": {"$ref": "http://169.254.169.254/latest/meta-data"},
           "b": {"items": [{"$ref": "file:///etc/passwd"}]},
           "c/d": {"$ref": "jar:file:/app.jar!/x.json"},
           "e": {"$anchor": "http://x/y"},
           "f": {"$dynamicRef": "other.json#node"}}}
        """;
    assertThat(schemaFaults(schema))
        .containsExactlyInAnyOrder(
            "outputSchema: /outputSchema/$schema must be a standard JSON Schema dialect (draft-04,"
                + " -06, -07, 2019-09 or 2020-12)",
            "outputSchema: /outputSchema/$id must not set a base URI (only '#name' is allowed)",
            "outputSchema: /outputSchema/properties/a/$ref must refer within the schema (start"
                + " with '#'); other documents are not fetched",
            "outputSchema: /outputSchema/properties/b/items/0/$ref must refer within the schema"
                + " (start with '#'); other documents are not fetched",
            "outputSchema: /outputSchema/properties/c~1d/$ref must refer within the schema (start"
                + " with '#'); other documents are not fetched",
            "outputSchema: /outputSchema/properties/e/$anchor must be a plain name, not a URI",
            "outputSchema: /outputSchema/properties/f/$dynamicRef must refer within the schema"
                + " (start with '#'); other documents are not fetched");
  }

  @Test
  void outputSchemaMayReferToItselfAndNameAStandardDialect() throws Exception {
    String schema =
        """
        {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
         "$defs": {"note": {"$anchor": "note", "type": "string"}},
         "properties": {
           "a": {"$ref": "#/$defs/note"},
           "b": {"$ref": "#note"},
           "$ref": {"type": "string", "enum": ["http://not-a-ref", {"$ref": "http://data"}]},
           "c": {"const": {"$ref": "http://data"}, "default": {"$schema": "http://data"}}}}
        """;
    assertThat(schemaFaults(schema)).isEmpty();
    assertThat(
            schemaFaults(
                "{\"$schema\": \"http://json-schema.org/draft-07/schema#\", \"type\": \"object\"}"))
        .isEmpty();
  }

  @Test
  void outputSchemaMustNotReferToItselfWithoutDescendingIntoTheAnswer() throws Exception {
    assertThat(schemaFaults("{\"type\": \"object\", \"$ref\": \"#\"}"))
        .singleElement()
        .asString()
        .startsWith("outputSchema: /outputSchema -> /outputSchema refers back to itself")
        .contains("validating an answer would never end");
    assertThat(
            schemaFaults(
                "{\"type\": \"object\", \"properties\": {\"a\": {\"$ref\":"
                    + " \"#/properties/a\"}}}"))
        .singleElement()
        .asString()
        .startsWith(
            "outputSchema: /outputSchema/properties/a -> /outputSchema/properties/a refers back");
    // Through an anchor, not, oneOf and allOf, reached from a property.
    String chain =
        """
        {"type": "object",
         "$defs": {"x": {"$anchor": "x", "not": {"$ref": "#/$defs/y"}},
                   "y": {"oneOf": [{"type": "string"}, {"allOf": [{"$ref": "#x"}]}]}},
         "properties": {"p": {"$ref": "#/$defs/x"}}}
        """;
    assertThat(schemaFaults(chain))
        .singleElement()
        .asString()
        .startsWith(
            "outputSchema: /outputSchema/$defs/x -> /outputSchema/$defs/x/not ->"
                + " /outputSchema/$defs/y -> /outputSchema/$defs/y/oneOf/1 ->"
                + " /outputSchema/$defs/y/oneOf/1/allOf/0 -> /outputSchema/$defs/x refers back");

    // A cycle nothing reaches is never evaluated, and then/else without an if never apply.
    assertThat(
            schemaFaults(
                "{\"type\": \"object\", \"$defs\": {\"unused\": {\"$ref\":"
                    + " \"#/$defs/unused\"}}, \"then\": {\"$ref\": \"#\"},"
                    + " \"else\": {\"$ref\": \"#\"}}"))
        .isEmpty();
    assertThat(schemaFaults("{\"type\": \"object\", \"if\": {}, \"then\": {\"$ref\": \"#\"}}"))
        .singleElement()
        .asString()
        .contains("/outputSchema -> /outputSchema/then -> /outputSchema refers back");

    // Recursion through properties and items ends with the answer.
    String tree =
        """
        {"type": "object", "$defs": {"node": {"type": "object",
           "properties": {"children": {"type": "array", "items": {"$ref": "#/$defs/node"}}},
           "additionalProperties": {"$ref": "#"}}},
         "properties": {"root": {"$ref": "#/$defs/node"}, "self": {"anyOf": [{"$ref": "#"}]}}}
        """;
    assertThat(schemaFaults(tree)).isEmpty();
  }

  @Test
  void anOutputSchemaTooDeepOrTooLargeIsRefusedBeforeItIsRead() throws Exception {
    // Long names nested deep: a pointer built at every level took memory in the square of it.
    String name = "a".repeat(1_000);
    String deep = ("{\"" + name + "\":").repeat(900) + "{}" + "}".repeat(900);
    List<String> faults =
        assertTimeoutPreemptively(
            Duration.ofSeconds(10),
            () -> schemaFaults("{\"type\": \"object\", \"properties\": " + deep + "}"));
    assertThat(faults).containsExactly("outputSchema is nested more than 64 levels deep");

    String wide = "[" + "{},".repeat(10_000) + "{}]";
    assertThat(schemaFaults("{\"type\": \"object\", \"examples\": " + wide + "}"))
        .containsExactly("outputSchema has more than 10000 values");

    assertThat(schemaFaults("{\"type\": \"object\", \"description\": \"a \\ud800 b\"}"))
        .containsExactly(
            "outputSchema holds half of a UTF-16 surrogate pair in a name or a text, which cannot"
                + " be stored");
    assertThat(schemaFaults("{\"type\": \"object\", \"properties\": {\"\\udc00\": {}}}"))
        .hasSize(1);

    // A fault's pointer abbreviates long names.
    assertThat(
            schemaFaults(
                "{\"type\": \"object\", \"properties\": {\""
                    + name
                    + "\": {\"$ref\": \"http://x\"}}}"))
        .singleElement()
        .asString()
        .startsWith(
            "outputSchema: /outputSchema/properties/" + "a".repeat(64) + "\u2026/$ref must");
  }

  @Test
  void unknownFieldsAreRejectedNotIgnored() {
    ObjectNode d = delivery();
    ((ObjectNode) d.withArray("steps").get(1)).putArray("need").add("analyse");
    try {
      codec.workflow(d);
      throw new AssertionError("expected a fault");
    } catch (IllegalArgumentException e) {
      assertThat(e.getMessage()).contains("unknown field 'need'").contains("steps[1]");
    }
  }
}
