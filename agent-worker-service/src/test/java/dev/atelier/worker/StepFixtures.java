package dev.atelier.worker;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.tomakehurst.wiremock.client.MappingBuilder;
import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import com.github.tomakehurst.wiremock.matching.RequestPatternBuilder;
import dev.atelier.contracts.AgentSpec;
import dev.atelier.contracts.ArtifactRef;
import dev.atelier.contracts.StepRequested;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** Steps of an architect agent, its output schema, and OpenAI-shaped answers, for worker tests. */
final class StepFixtures {

  static final ObjectMapper JSON = new ObjectMapper();
  static final String SYSTEM_PROMPT = "You are a software architect. Answer in JSON.";
  static final String TEMPLATE =
      "Requirement:\n{{requirement}}\n\nAnalysis:\n{{input:analysis}}\n\nFeedback: {{feedback}}";
  static final String REQUIREMENT = "A shop that sells books";

  /** The gateway's chat endpoint as the worker calls it. */
  static final String CHAT = "/v1/chat/completions";

  private StepFixtures() {}

  /** A stub matching the chat calls of one step (the worker names the step in a header). */
  static MappingBuilder chatFor(StepRequested step) {
    return post(urlEqualTo(CHAT))
        .withHeader("X-Atelier-Step-Id", equalTo(step.stepId().toString()));
  }

  /** The chat calls of one step, for {@code WireMockServer.findAll}. */
  static RequestPatternBuilder chatCallsOf(StepRequested step) {
    return postRequestedFor(urlEqualTo(CHAT))
        .withHeader("X-Atelier-Step-Id", equalTo(step.stepId().toString()));
  }

  /** An architect step on model {@code gpt-test} without budget. */
  static StepRequested step(
      UUID workflowId, String stepKey, List<ArtifactRef> inputs, Instant deadline) {
    return step(workflowId, stepKey, inputs, deadline, REQUIREMENT, "gpt-test");
  }

  static StepRequested step(
      UUID workflowId,
      String stepKey,
      List<ArtifactRef> inputs,
      Instant deadline,
      String requirement,
      String model) {
    AgentSpec agent =
        new AgentSpec(
            "architect",
            3,
            SYSTEM_PROMPT,
            TEMPLATE,
            "architecture",
            architectureSchema(),
            model,
            List.of(),
            new BigDecimal("0.2"),
            2000);
    return new StepRequested(
        UUID.randomUUID(),
        StepRequested.TYPE,
        Instant.now(),
        workflowId,
        UUID.randomUUID(),
        stepKey,
        1,
        agent,
        requirement,
        inputs,
        deadline,
        null,
        null,
        null,
        Map.of());
  }

  static StepRequested withoutSchema(StepRequested s) {
    return with(s, agentWith(s.agent(), null, s.agent().model()), s.budgetLimitUsd());
  }

  static AgentSpec agentWith(AgentSpec a, JsonNode schema, String model) {
    return new AgentSpec(
        a.role(),
        a.version(),
        a.systemPrompt(),
        a.userPromptTemplate(),
        a.outputArtifact(),
        schema,
        model,
        a.fallbackModels(),
        a.temperature(),
        a.maxTokens());
  }

  /** {@code s} with another agent and a workflow budget (limit, and as much remaining). */
  static StepRequested with(StepRequested s, AgentSpec agent, BigDecimal budgetLimitUsd) {
    return new StepRequested(
        s.eventId(),
        s.type(),
        s.occurredAt(),
        s.workflowId(),
        s.stepId(),
        s.stepKey(),
        s.attempt(),
        agent,
        s.requirement(),
        s.inputs(),
        s.deadline(),
        budgetLimitUsd,
        budgetLimitUsd,
        s.feedback(),
        s.metadata());
  }

  /** {@code s} for a workflow of {@code team}, as the orchestrator puts it into the metadata. */
  static StepRequested withTeam(StepRequested s, String team) {
    return new StepRequested(
        s.eventId(),
        s.type(),
        s.occurredAt(),
        s.workflowId(),
        s.stepId(),
        s.stepKey(),
        s.attempt(),
        s.agent(),
        s.requirement(),
        s.inputs(),
        s.deadline(),
        s.budgetRemainingUsd(),
        s.budgetLimitUsd(),
        s.feedback(),
        Map.of("atelier.team", team));
  }

  static Instant future() {
    return Instant.now().plusSeconds(300);
  }

  static JsonNode architectureSchema() {
    return parse(
        """
        {"type":"object","required":["summary","components"],"additionalProperties":false,
         "properties":{
           "summary":{"type":"string"},
           "components":{"type":"array","minItems":1,"items":{"type":"object",
             "required":["name","responsibility"],
             "properties":{"name":{"type":"string"},"responsibility":{"type":"string"}}}},
           "diagram":{"type":"string"}}}
        """);
  }

  static ObjectNode validArchitecture() {
    return (ObjectNode)
        parse(
            """
            {"summary":"Two services behind a gateway",
             "components":[{"name":"catalog","responsibility":"books and search"},
                           {"name":"orders","responsibility":"carts and payment"}],
             "diagram":"graph TD\\n  gateway --> catalog\\n  gateway --> orders"}
            """);
  }

  /** A non-streamed chat completion answering {@code content}, 120 prompt and 40 output tokens. */
  static ResponseDefinitionBuilder completion(String content) {
    return completion(content, "gpt-test-2025");
  }

  /** The same, naming {@code model} as the model that answered. */
  static ResponseDefinitionBuilder completion(String content, String model) {
    return completion(content, model, "stop");
  }

  /** The same, with the model's {@code finish_reason} ({@code length}: cut off at max tokens). */
  static ResponseDefinitionBuilder completion(String content, String model, String finishReason) {
    ObjectNode body = JSON.createObjectNode();
    body.put("id", "chatcmpl-test").put("object", "chat.completion").put("created", 1700000000);
    body.put("model", model);
    ObjectNode choice = body.putArray("choices").addObject();
    choice.put("index", 0).put("finish_reason", finishReason);
    choice.putObject("message").put("role", "assistant").put("content", content);
    body.putObject("usage")
        .put("prompt_tokens", 120)
        .put("completion_tokens", 40)
        .put("total_tokens", 160);
    return aResponse()
        .withStatus(200)
        .withHeader("Content-Type", "application/json")
        .withBody(body.toString());
  }

  private static JsonNode parse(String json) {
    try {
      return JSON.readTree(json);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }
}
