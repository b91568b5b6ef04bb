package dev.atelier.worker;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.anyRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.matchingJsonPath;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static dev.atelier.worker.StepFixtures.JSON;
import static dev.atelier.worker.StepFixtures.SYSTEM_PROMPT;
import static dev.atelier.worker.StepFixtures.agentWith;
import static dev.atelier.worker.StepFixtures.architectureSchema;
import static dev.atelier.worker.StepFixtures.chatCallsOf;
import static dev.atelier.worker.StepFixtures.chatFor;
import static dev.atelier.worker.StepFixtures.completion;
import static dev.atelier.worker.StepFixtures.future;
import static dev.atelier.worker.StepFixtures.step;
import static dev.atelier.worker.StepFixtures.validArchitecture;
import static dev.atelier.worker.StepFixtures.with;
import static dev.atelier.worker.StepFixtures.withTeam;
import static dev.atelier.worker.StepFixtures.withoutSchema;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.is;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import dev.atelier.contracts.AgentSpec;
import dev.atelier.contracts.ArtifactRef;
import dev.atelier.contracts.AtelierEvent;
import dev.atelier.contracts.Headers;
import dev.atelier.contracts.StepCompleted;
import dev.atelier.contracts.StepFailed;
import dev.atelier.contracts.StepRequested;
import dev.atelier.contracts.Topology;
import dev.atelier.contracts.WorkflowStatusChanged;
import dev.atelier.kit.amqp.EventPublisher;
import dev.atelier.kit.amqp.RabbitBroker;
import dev.atelier.worker.messaging.ResultPublisher;
import dev.atelier.worker.messaging.WorkflowEndListener;
import dev.atelier.worker.service.EndedWorkflows;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import jakarta.inject.Inject;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The worker end to end inside one Quarkus boot: real RabbitMQ (vhost atelier-test-worker), the
 * real context-service as a child process, and WireMock in place of the LLM gateway.
 */
@QuarkusTest
@WithTestResource(WireMockResource.class)
@WithTestResource(ContextServiceResource.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AgentWorkerTest {

  private static final Duration WAIT = Duration.ofSeconds(30);

  @WireMockResource.Gateway WireMockServer gateway;

  @Inject EventPublisher publisher;
  @Inject TestSpans spans;
  @Inject EndedWorkflows ended;
  @Inject RabbitBroker broker;

  @ConfigProperty(name = "quarkus.rest-client.context.url")
  String contextUrl;

  private ResultInbox inbox;

  @BeforeAll
  void openInbox() throws Exception {
    inbox = new ResultInbox("atelier-test-worker");
  }

  @AfterAll
  void closeInbox() throws Exception {
    inbox.close();
  }

  @Test
  void completesAStepAndStoresItsArtifacts() throws Exception {
    UUID workflowId = UUID.randomUUID();
    ObjectNode analysis = (ObjectNode) JSON.readTree("{\"stories\":[\"As a user I log in\"]}");
    ArtifactRef input = writeArtifact(workflowId, "analysis", analysis);
    // The Markdown rendering a worker writes beside each output: the orchestrator passes it on
    // with its JSON, which the prompt already holds, so it would only double the input tokens.
    ArtifactRef rendering =
        writeArtifact(workflowId, "analysis.md", "markdown", TextNode.valueOf("# Analysis"));
    StepRequested step =
        step(workflowId, "design", List.of(input, rendering), Instant.now().plusSeconds(300));
    ObjectNode answer = validArchitecture();
    stubAnswer(step, answer.toString());

    publish(step);

    StepCompleted done = awaitOne(step, StepCompleted.class);
    assertThat(done.eventId()).isEqualTo(ResultPublisher.eventId(step.stepId(), 1, "completed"));
    assertThat(done.outputs())
        .containsExactly(
            ArtifactRef.parse("architecture@1"), ArtifactRef.parse("architecture.md@1"));
    assertThat(done.summary()).isEqualTo("Two services behind a gateway");
    assertThat(done.verdict()).isNull();
    assertThat(done.role()).isEqualTo("architect");
    assertThat(done.attempt()).isEqualTo(1);

    // The exact request the gateway received.
    List<LoggedRequest> calls = callsFor(step);
    assertThat(calls).hasSize(1);
    LoggedRequest call = calls.get(0);
    assertThat(call.getHeader("X-Atelier-Workflow-Id")).isEqualTo(workflowId.toString());
    assertThat(call.getHeader("X-Atelier-Step-Id")).isEqualTo(step.stepId().toString());
    assertThat(call.getHeader("X-Atelier-Agent")).isEqualTo("architect");
    assertThat(call.getHeader("X-Atelier-Conversation-Id")).isEqualTo(workflowId + ":design");
    assertThat(call.getHeader("Authorization")).isEqualTo("Bearer atelier-local-key");
    // In these headers only: not as W3C baggage, which every service would decode for nothing and
    // pass on (the team and budget with it) to whatever it calls. The trace itself does travel.
    assertThat(call.containsHeader("baggage")).isFalse();
    assertThat(call.getHeader("traceparent")).isNotBlank();

    String renderedInput = JSON.writerWithDefaultPrettyPrinter().writeValueAsString(analysis);
    ObjectNode expected = JSON.createObjectNode();
    expected.put("model", "gpt-test");
    ArrayNode messages = expected.putArray("messages");
    messages.addObject().put("role", "system").put("content", SYSTEM_PROMPT);
    messages
        .addObject()
        .put("role", "user")
        .put(
            "content",
            "Requirement:\nA shop that sells books\n\nAnalysis:\n"
                + renderedInput
                + "\n\nFeedback: none");
    expected.put("temperature", 0.2).put("top_p", 1.0).put("max_tokens", 2000);
    expected.put("presence_penalty", 0.0).put("frequency_penalty", 0.0);
    ObjectNode format = expected.putObject("response_format").put("type", "json_schema");
    format
        .putObject("json_schema")
        .put("name", "architecture")
        .put("strict", false)
        .set("schema", architectureSchema());
    assertThat(JSON.readTree(call.getBodyAsString())).isEqualTo(expected);

    // The artifacts, read back from context-service.
    JsonNode stored = readArtifact(workflowId, "architecture", 1);
    assertThat(stored.path("kind").asText()).isEqualTo("json");
    assertThat(stored.path("content")).isEqualTo(answer);
    assertThat(stored.path("producer").path("stepId").asText()).isEqualTo(step.stepId().toString());
    assertThat(stored.path("producer").path("stepKey").asText()).isEqualTo("design");
    assertThat(stored.path("producer").path("attempt").asInt()).isEqualTo(1);
    assertThat(stored.path("producer").path("agent").asText()).isEqualTo("architect");
    assertThat(stored.path("producer").path("agentVersion").asInt()).isEqualTo(3);
    JsonNode markdown = readArtifact(workflowId, "architecture.md", 1);
    assertThat(markdown.path("kind").asText()).isEqualTo("markdown");
    assertThat(markdown.path("mediaType").asText()).startsWith("text/markdown");
    assertThat(markdown.path("content").asText())
        .startsWith("# Architecture\n")
        .contains("## Components")
        .contains("### catalog")
        .contains("```mermaid\ngraph TD\n");

    // The step ran in an invoke_agent span inside the delivery's consumer span.
    SpanData agentSpan =
        await()
            .atMost(WAIT)
            .until(() -> span("invoke_agent architect", step.stepId()), s -> s != null);
    assertThat(agentSpan.getKind()).isEqualTo(SpanKind.INTERNAL);
    assertThat(agentSpan.getAttributes().get(AttributeKey.stringKey("gen_ai.operation.name")))
        .isEqualTo("invoke_agent");
    assertThat(agentSpan.getAttributes().get(AttributeKey.stringKey("gen_ai.agent.name")))
        .isEqualTo("architect");
    assertThat(agentSpan.getAttributes().get(AttributeKey.stringKey("gen_ai.request.model")))
        .isEqualTo("gpt-test");
    assertThat(agentSpan.getAttributes().get(AttributeKey.stringKey("atelier.workflow.id")))
        .isEqualTo(workflowId.toString());
    assertThat(agentSpan.getAttributes().get(AttributeKey.stringKey("atelier.step.key")))
        .isEqualTo("design");
    assertThat(agentSpan.getAttributes().get(AttributeKey.longKey("atelier.attempt")))
        .isEqualTo(1L);
    SpanData consumer =
        spans.exporter().getFinishedSpanItems().stream()
            .filter(s -> s.getSpanId().equals(agentSpan.getParentSpanId()))
            .findFirst()
            .orElseThrow();
    assertThat(consumer.getName()).isEqualTo("process atelier.steps.architect");
    assertThat(consumer.getKind()).isEqualTo(SpanKind.CONSUMER);

    // context-service was called twice: one batch read (inputs and an earlier output of this
    // attempt), one batch write (both artifacts).
    List<String> contextCalls =
        spans.exporter().getFinishedSpanItems().stream()
            .filter(s -> s.getTraceId().equals(agentSpan.getTraceId()))
            .filter(s -> s.getKind() == SpanKind.CLIENT)
            .map(s -> s.getAttributes().toString())
            .filter(a -> a.contains(contextUrl))
            .toList();
    assertThat(contextCalls).hasSize(2);
    assertThat(contextCalls).anyMatch(a -> a.contains("/artifact-reads"));
    assertThat(contextCalls).anyMatch(a -> a.contains("/artifact-writes"));
  }

  @Test
  void repairsAnInvalidAnswer() throws Exception {
    StepRequested step = step(UUID.randomUUID(), "design", List.of(), future());
    stubAnswers(step, "Here is the design: two services", validArchitecture().toString());

    publish(step);

    StepCompleted done = awaitOne(step, StepCompleted.class);
    assertThat(done.outputs()).hasSize(2);
    List<LoggedRequest> calls = callsFor(step);
    assertThat(calls).hasSize(2);
    JsonNode repair = JSON.readTree(calls.get(1).getBodyAsString()).path("messages");
    assertThat(repair).hasSize(4);
    assertThat(repair.get(2).path("role").asText()).isEqualTo("assistant");
    assertThat(repair.get(2).path("content").asText())
        .isEqualTo("Here is the design: two services");
    assertThat(repair.get(3).path("role").asText()).isEqualTo("user");
    assertThat(repair.get(3).path("content").asText())
        .contains("not valid for the required JSON Schema")
        .contains("not valid JSON");
    // The feedback placeholder says "none" and no input section is invented.
    assertThat(repair.get(1).path("content").asText())
        .endsWith("Analysis:\nnone\n\nFeedback: none");
  }

  @Test
  void asksForARepairOfAnAnswerHoldingTextThatCannotBeStored() throws Exception {
    // A NUL conforms to any string schema, but context-service cannot store it: without this
    // check the step failed when writing its artifacts, after the LLM calls were paid for.
    UUID workflowId = UUID.randomUUID();
    StepRequested step = step(workflowId, "design", List.of(), future());
    ObjectNode broken = validArchitecture();
    broken.put("summary", "Two services\0behind a gateway");
    stubAnswers(step, broken.toString(), validArchitecture().toString());

    publish(step);

    StepCompleted done = awaitOne(step, StepCompleted.class);
    List<LoggedRequest> calls = callsFor(step);
    assertThat(calls).hasSize(2);
    assertThat(
            JSON.readTree(calls.get(1).getBodyAsString())
                .path("messages")
                .get(3)
                .path("content")
                .asText())
        .contains("the string at /summary contains the character U+0000");
    assertThat(
            readArtifact(workflowId, "architecture", done.outputs().get(0).version())
                .path("content"))
        .isEqualTo(validArchitecture());
  }

  @Test
  void failsNonRetryablyWhenTheAnswerNeverConforms() throws Exception {
    UUID workflowId = UUID.randomUUID();
    StepRequested step = step(workflowId, "design", List.of(), future());
    stubAnswer(step, "{\"summary\": 42}");

    publish(step);

    StepFailed failed = awaitOne(step, StepFailed.class);
    assertThat(failed.errorCode()).isEqualTo("output_invalid");
    assertThat(failed.retryable()).isFalse();
    assertThat(failed.message()).contains("after 3 attempts").contains("components");
    assertThat(failed.eventId()).isEqualTo(ResultPublisher.eventId(step.stepId(), 1, "failed"));
    List<LoggedRequest> calls = callsFor(step);
    assertThat(calls).hasSize(3);
    // The last repair carries the prompt, the last answer and what is wrong with it: not every
    // earlier answer, each paid for again as input.
    JsonNode last = JSON.readTree(calls.get(2).getBodyAsString()).path("messages");
    assertThat(last).hasSize(4);
    assertThat(last.get(2).path("role").asText()).isEqualTo("assistant");
    assertThat(last.get(3).path("content").asText()).contains("not valid for the required");
    given().get(contextUrl + "/api/v1/workflows/{wf}/artifacts", workflowId).then().statusCode(404);
  }

  @Test
  void anAnswerCutOffAtMaxTokensFailsAtOnceSayingSo() throws Exception {
    StepRequested step = step(UUID.randomUUID(), "design", List.of(), future());
    gateway.stubFor(
        chatFor(step).willReturn(completion("{\"summary\": \"Two serv", "gpt-test", "length")));

    publish(step);

    StepFailed failed = awaitOne(step, StepFailed.class);
    assertThat(failed.errorCode()).isEqualTo("output_invalid");
    assertThat(failed.retryable()).isFalse();
    assertThat(failed.message()).contains("cut off").contains("maxTokens 2000");
    // Not asked again: a repair would be cut off the same way, each sending the cut answer back.
    assertThat(callsFor(step)).hasSize(1);
  }

  @Test
  void classifiesGatewayErrors() throws Exception {
    StepRequested unavailable = step(UUID.randomUUID(), "design", List.of(), future());
    gateway.stubFor(
        chatFor(unavailable)
            .willReturn(
                aResponse()
                    .withStatus(503)
                    .withHeader("Content-Type", "application/json")
                    .withBody("{\"error\":{\"message\":\"no provider available\"}}")));
    StepRequested rejected = step(UUID.randomUUID(), "design", List.of(), future());
    gateway.stubFor(
        chatFor(rejected)
            .willReturn(
                aResponse()
                    .withStatus(401)
                    .withHeader("Content-Type", "application/json")
                    .withBody("{\"error\":{\"message\":\"invalid api key\"}}")));

    publish(unavailable);
    publish(rejected);

    StepFailed retryable = awaitOne(unavailable, StepFailed.class);
    assertThat(retryable.errorCode()).isEqualTo("provider_unavailable");
    assertThat(retryable.retryable()).isTrue();
    assertThat(retryable.message()).contains("503").contains("no provider available");
    // Sent once (no langchain4j retry): retrying is the gateway's and the orchestrator's job.
    assertThat(callsFor(unavailable)).hasSize(1);

    StepFailed final401 = awaitOne(rejected, StepFailed.class);
    assertThat(final401.errorCode()).isEqualTo("provider_rejected");
    assertThat(final401.retryable()).isFalse();
    assertThat(final401.message()).contains("401").doesNotContain("atelier-local-key");
    // A rejection is final: not retried at all.
    assertThat(callsFor(rejected)).hasSize(1);
  }

  @Test
  void sendsTheWorkflowBudgetAndStopsAtOnceWhenTheGatewayRefusesOnBudget() throws Exception {
    StepRequested plain = step(UUID.randomUUID(), "design", List.of(), future());
    AgentSpec withFallback =
        new AgentSpec(
            plain.agent().role(),
            plain.agent().version(),
            plain.agent().systemPrompt(),
            plain.agent().userPromptTemplate(),
            plain.agent().outputArtifact(),
            plain.agent().outputSchema(),
            plain.agent().model(),
            List.of("gpt-fallback"),
            plain.agent().temperature(),
            plain.agent().maxTokens());
    StepRequested step = withTeam(with(plain, withFallback, new BigDecimal("2.50")), "shop");
    gateway.stubFor(
        chatFor(step)
            .willReturn(
                aResponse()
                    .withStatus(402)
                    .withHeader("Content-Type", "application/json")
                    .withBody(
                        "{\"error\":{\"message\":\"workflow budget "
                            + step.workflowId()
                            + " is spent: 2.50 USD of 2.50\",\"type\":\"insufficient_quota\","
                            + "\"code\":\"budget_exceeded\",\"param\":\"workflow\"}}")));

    publish(step);

    StepFailed failed = awaitOne(step, StepFailed.class);
    assertThat(failed.errorCode()).isEqualTo("budget_exceeded");
    assertThat(failed.retryable()).isFalse();
    assertThat(failed.message()).contains("402").contains("workflow budget");
    assertThat(failed.budgetScope()).as("the refusing budget's scope").isEqualTo("workflow");
    // Neither langchain4j's quick retry nor the fallback model: spending elsewhere is no answer.
    List<LoggedRequest> calls = callsFor(step);
    assertThat(calls).hasSize(1);
    assertThat(calls.get(0).getHeader("X-Atelier-Workflow-Budget-Usd")).isEqualTo("2.50");
    assertThat(calls.get(0).getHeader("X-Atelier-Team")).isEqualTo("shop");
    assertThat(calls.get(0).getHeader("X-Atelier-Workflow-Id"))
        .isEqualTo(step.workflowId().toString());
  }

  @Test
  void asksForJsonObjectWithTheSchemaInThePromptWhenTheModelRefusesJsonSchema() throws Exception {
    StepRequested plain = step(UUID.randomUUID(), "design", List.of(), future());
    // A model of its own: what the worker learns about it must not leak into other tests.
    String model = "json-object-only-" + plain.stepId();
    StepRequested step =
        with(plain, agentWith(plain.agent(), plain.agent().outputSchema(), model), null);
    gateway.stubFor(
        chatFor(step)
            .withRequestBody(matchingJsonPath("$.response_format[?(@.type == 'json_schema')]"))
            .willReturn(
                aResponse()
                    .withStatus(400)
                    .withHeader("Content-Type", "application/json")
                    .withBody(
                        "{\"error\":{\"message\":\"This model does not support"
                            + " structured outputs\",\"type\":\"invalid_request_error\","
                            + "\"param\":\"response_format\",\"code\":null}}")));
    gateway.stubFor(
        chatFor(step)
            .withRequestBody(matchingJsonPath("$.response_format[?(@.type == 'json_object')]"))
            .willReturn(completion(validArchitecture().toString())));

    publish(step);

    StepCompleted done = awaitOne(step, StepCompleted.class);
    assertThat(done.outputs()).hasSize(2);
    List<LoggedRequest> calls = callsFor(step);
    assertThat(calls).hasSize(2);
    JsonNode second = JSON.readTree(calls.get(1).getBodyAsString());
    assertThat(second.path("model").asText()).isEqualTo(model);
    assertThat(second.path("response_format").path("type").asText()).isEqualTo("json_object");
    JsonNode system = second.path("messages").get(0);
    assertThat(system.path("role").asText()).isEqualTo("system");
    assertThat(system.path("content").asText())
        .startsWith(SYSTEM_PROMPT)
        .contains("conforms to this JSON Schema")
        .contains("\"components\"");

    // Learned: the next step on that model with that schema goes straight to json_object.
    StepRequested next =
        with(
            step(UUID.randomUUID(), "design", List.of(), future()),
            agentWith(plain.agent(), plain.agent().outputSchema(), model),
            null);
    gateway.stubFor(chatFor(next).willReturn(completion(validArchitecture().toString())));
    publish(next);
    awaitOne(next, StepCompleted.class);
    List<LoggedRequest> nextCalls = callsFor(next);
    assertThat(nextCalls).hasSize(1);
    assertThat(
            JSON.readTree(nextCalls.get(0).getBodyAsString())
                .path("response_format")
                .path("type")
                .asText())
        .isEqualTo("json_object");

    // Only for that schema: another role's schema on the same model is still asked for first
    // with json_schema (a provider may refuse one schema's keywords and take another's).
    ObjectNode otherSchema = ((ObjectNode) plain.agent().outputSchema()).deepCopy();
    otherSchema.put("description", "another role's output");
    StepRequested other =
        with(
            step(UUID.randomUUID(), "design", List.of(), future()),
            agentWith(plain.agent(), otherSchema, model),
            null);
    gateway.stubFor(chatFor(other).willReturn(completion(validArchitecture().toString())));
    publish(other);
    awaitOne(other, StepCompleted.class);
    List<LoggedRequest> otherCalls = callsFor(other);
    assertThat(otherCalls).hasSize(1);
    assertThat(
            JSON.readTree(otherCalls.get(0).getBodyAsString())
                .path("response_format")
                .path("type")
                .asText())
        .isEqualTo("json_schema");
  }

  @Test
  void aRedeliveredStepWritesNothingTwiceAndRepeatsItsEventId() throws Exception {
    UUID workflowId = UUID.randomUUID();
    StepRequested step = step(workflowId, "design", List.of(), future());
    stubAnswer(step, validArchitecture().toString());

    publish(step);
    StepCompleted first = awaitOne(step, StepCompleted.class);
    publish(step);
    await().atMost(WAIT).until(() -> inbox.resultsOf(step.stepId()).size() == 2);

    List<AtelierEvent> results = inbox.resultsOf(step.stepId());
    assertThat(results).allSatisfy(e -> assertThat(e.eventId()).isEqualTo(first.eventId()));
    assertThat(((StepCompleted) results.get(1)).outputs()).isEqualTo(first.outputs());
    given()
        .get(contextUrl + "/api/v1/workflows/{wf}/artifacts/architecture/versions", workflowId)
        .then()
        .statusCode(200)
        .body("size()", is(1));
    given()
        .get(contextUrl + "/api/v1/workflows/{wf}/artifacts/architecture.md/versions", workflowId)
        .then()
        .statusCode(200)
        .body("size()", is(1));
    // The second delivery reused the stored output instead of asking the model again.
    assertThat(callsFor(step)).hasSize(1);
  }

  @Test
  void aRedeliveryWhoseRenderingDiffersUsesTheOneItsKeyWrote() throws Exception {
    // An earlier delivery stored the output and a rendering of it that this worker would render
    // differently (say, an older version of the renderer): the key's write is the attempt's.
    UUID workflowId = UUID.randomUUID();
    StepRequested step = step(workflowId, "design", List.of(), future());
    String prefix = step.stepId() + ":" + step.attempt() + ":";
    writeArtifact(workflowId, prefix + "architecture", "architecture", "json", validArchitecture());
    ArtifactRef earlier =
        writeArtifact(
            workflowId,
            prefix + "architecture.md",
            "architecture.md",
            "markdown",
            TextNode.valueOf("# Architecture (rendered by an earlier worker)"));

    publish(step);

    StepCompleted done = awaitOne(step, StepCompleted.class);
    assertThat(done.outputs()).containsExactly(ArtifactRef.parse("architecture@1"), earlier);
    assertThat(callsFor(step)).isEmpty();
  }

  @Test
  void rejectsStepsThatCannotRun() throws Exception {
    StepRequested late =
        step(UUID.randomUUID(), "design", List.of(), Instant.now().minusSeconds(1));
    StepRequested missingInput =
        step(UUID.randomUUID(), "design", List.of(ArtifactRef.parse("analysis@7")), future());
    StepRequested noSchema = withoutSchema(step(UUID.randomUUID(), "design", List.of(), future()));

    publish(late);
    publish(missingInput);
    publish(noSchema);

    StepFailed deadline = awaitOne(late, StepFailed.class);
    assertThat(deadline.errorCode()).isEqualTo("deadline_exceeded");
    assertThat(deadline.retryable()).isTrue();
    StepFailed input = awaitOne(missingInput, StepFailed.class);
    assertThat(input.errorCode()).isEqualTo("input_missing");
    assertThat(input.retryable()).isFalse();
    assertThat(input.message()).contains("analysis@7");
    StepFailed invalid = awaitOne(noSchema, StepFailed.class);
    assertThat(invalid.errorCode()).isEqualTo("request_invalid");
    assertThat(invalid.retryable()).isFalse();
    assertThat(invalid.message()).contains("outputSchema");
    assertThat(callsFor(late)).isEmpty();
    assertThat(callsFor(missingInput)).isEmpty();
    assertThat(callsFor(noSchema)).isEmpty();
  }

  @Test
  void stopsWaitingForTheModelWhenTheAttemptsDeadlinePasses() {
    StepRequested step = step(UUID.randomUUID(), "design", List.of(), Instant.now().plusSeconds(5));
    gateway.stubFor(
        chatFor(step)
            .willReturn(completion(validArchitecture().toString()).withFixedDelay(25_000)));

    publish(step);

    // Soon after the deadline, not when the model answers at last (it would be taken then).
    List<AtelierEvent> results =
        await()
            .atMost(Duration.ofSeconds(15))
            .until(() -> inbox.resultsOf(step.stepId()), r -> !r.isEmpty());
    assertThat(results).hasSize(1).first().isInstanceOf(StepFailed.class);
    StepFailed failed = (StepFailed) results.get(0);
    assertThat(failed.errorCode()).isEqualTo("deadline_exceeded");
    assertThat(failed.retryable()).isTrue();
    assertThat(failed.message()).contains("passed while it waited for the model");
    assertThat(callsFor(step)).hasSize(1);
  }

  @Test
  void makesNoCallForAStepQueuedBeforeItsWorkflowWasCancelled() throws Exception {
    UUID workflowId = UUID.randomUUID();
    StepRequested queued = step(workflowId, "design", List.of(), future());
    stubAnswer(queued, validArchitecture().toString());
    // Cancelled after the step was requested, before a worker took it.
    announceEnd(workflowId, "cancelled", queued.occurredAt().plusMillis(1));
    await().atMost(WAIT).until(() -> ended.after(queued).isPresent());

    publish(queued);

    StepFailed failed = awaitOne(queued, StepFailed.class);
    assertThat(failed.errorCode()).isEqualTo("workflow_ended");
    assertThat(failed.retryable()).isTrue();
    assertThat(failed.message()).contains("became cancelled at");
    assertThat(callsFor(queued)).isEmpty();

    // A step requested after the end (the workflow was resumed) runs.
    StepRequested resumed = step(workflowId, "design", List.of(), future());
    stubAnswer(resumed, validArchitecture().toString());
    publish(resumed);
    awaitOne(resumed, StepCompleted.class);
    assertThat(callsFor(resumed)).hasSize(1);
  }

  @Test
  void aReplicaStartingAfterAWorkflowEndedKnowsOfIt() {
    UUID workflowId = UUID.randomUUID();
    StepRequested queued = step(workflowId, "design", List.of(), future());
    announceEnd(workflowId, "budget_exceeded", queued.occurredAt().plusMillis(1));
    await().atMost(WAIT).until(() -> ended.after(queued).isPresent());
    // A stream offset by time counts whole seconds: the ending must be older than the second a
    // reader starting "now" would begin with, for the test to tell reading back from not.
    Instant heard = Instant.now();
    await().atMost(WAIT).until(() -> Instant.now().isAfter(heard.plusSeconds(2)));

    // Scaled out because the queues are deep, or restarted: it reads the endings of the last day.
    EndedWorkflows replica = new EndedWorkflows(100);
    new WorkflowEndListener(broker, replica).listen();

    await().atMost(WAIT).until(() -> replica.after(queued).isPresent());
    assertThat(replica.after(queued).orElseThrow().status()).isEqualTo("budget_exceeded");
  }

  @Test
  void makesNoRepairCallOnceItsWorkflowHasFailed() throws Exception {
    UUID workflowId = UUID.randomUUID();
    StepRequested step = step(workflowId, "design", List.of(), future());
    // Not conforming, so a repair would follow; slow, so the workflow fails meanwhile (hearing of
    // it takes milliseconds; the answer comes 8 s after the call).
    gateway.stubFor(chatFor(step).willReturn(completion("{}").withFixedDelay(8_000)));

    publish(step);
    await().atMost(WAIT).until(() -> callsFor(step).size() == 1);
    announceEnd(workflowId, "failed", Instant.now());
    await().atMost(WAIT).until(() -> ended.after(step).isPresent());
    assertThat(inbox.resultsOf(step.stepId())).as("heard before the answer came").isEmpty();

    StepFailed failed = awaitOne(step, StepFailed.class);
    assertThat(failed.errorCode()).isEqualTo("workflow_ended");
    assertThat(failed.message()).contains("became failed at");
    assertThat(callsFor(step)).hasSize(1);
  }

  @Test
  void failsAStepWhoseSchemaRefersOutsideItselfWithoutFetchingAnything() throws Exception {
    StepRequested plain = step(UUID.randomUUID(), "design", List.of(), future());
    // An inner address as a role definition could name it; the WireMock server records requests.
    String inner = gateway.baseUrl() + "/internal/" + plain.stepId();
    ObjectNode schema = JSON.createObjectNode().put("type", "object");
    schema.putObject("properties").putObject("summary").put("$ref", inner);
    StepRequested step = with(plain, agentWith(plain.agent(), schema, "gpt-test"), null);
    stubAnswer(step, validArchitecture().toString());

    publish(step);

    StepFailed failed = awaitOne(step, StepFailed.class);
    assertThat(failed.errorCode()).isEqualTo("request_invalid");
    assertThat(failed.retryable()).isFalse();
    assertThat(failed.message()).contains("refers to " + inner);
    assertThat(gateway.findAll(anyRequestedFor(urlPathEqualTo("/internal/" + plain.stepId()))))
        .isEmpty();
    assertThat(callsFor(step)).isEmpty();
  }

  @Test
  void deadLettersARequestThatCannotBeAnswered() throws Exception {
    StepRequested valid = step(UUID.randomUUID(), "design", List.of(), future());
    StepRequested noAgent =
        new StepRequested(
            valid.eventId(),
            valid.type(),
            valid.occurredAt(),
            valid.workflowId(),
            valid.stepId(),
            valid.stepKey(),
            1,
            null,
            valid.requirement(),
            List.of(),
            valid.deadline(),
            null,
            null,
            null,
            Map.of());
    List<String> reasons = new CopyOnWriteArrayList<>();
    try (Connection connection = rabbit().newConnection("agent-worker-test-dlq")) {
      Channel ch = connection.createChannel();
      ch.basicConsume(
          Topology.STEPS_DEAD_LETTER_QUEUE,
          false,
          (tag, delivery) -> {
            if (noAgent.eventId().toString().equals(delivery.getProperties().getMessageId())) {
              reasons.add(
                  String.valueOf(
                      delivery.getProperties().getHeaders().get(Headers.DEAD_LETTER_REASON)));
              ch.basicAck(delivery.getEnvelope().getDeliveryTag(), false);
            }
          },
          tag -> {});

      publisher.publish(Topology.STEPS_EXCHANGE, Topology.stepRoutingKey("architect"), noAgent);

      await().atMost(WAIT).until(() -> !reasons.isEmpty());
    }
    assertThat(reasons.get(0)).contains("lacks workflowId, stepId or agent");
    assertThat(inbox.resultsOf(noAgent.stepId())).isEmpty();
    assertThat(callsFor(noAgent)).isEmpty();
  }

  @Test
  void isReadyWithBrokerAndContextService() {
    given()
        .get("/q/health/ready")
        .then()
        .statusCode(200)
        .body("checks.name", hasItem("rabbitmq"))
        .body("checks.name", hasItem("context-service"))
        .body("status", is("UP"));
  }

  // --- helpers

  private static ConnectionFactory rabbit() {
    ConnectionFactory factory = new ConnectionFactory();
    factory.setHost("127.0.0.1");
    factory.setVirtualHost("atelier-test-worker");
    return factory;
  }

  private void publish(StepRequested step) {
    publisher.publish(Topology.STEPS_EXCHANGE, Topology.stepRoutingKey(step.role()), step);
  }

  /** The orchestrator's announcement that the workflow became {@code status} at {@code at}. */
  private void announceEnd(UUID workflowId, String status, Instant at) {
    publisher.publish(
        Topology.WORKFLOW_EVENTS_EXCHANGE,
        Topology.workflowStatusRoutingKey(status),
        new WorkflowStatusChanged(
            UUID.randomUUID(),
            WorkflowStatusChanged.TYPE,
            at,
            workflowId,
            "software-delivery",
            1,
            "a test workflow",
            "team-a",
            status,
            "running",
            "ended by the test"));
  }

  private void stubAnswer(StepRequested step, String content) {
    gateway.stubFor(chatFor(step).willReturn(completion(content)));
  }

  /**
   * The step's first chat call is answered with {@code first}, every later one with {@code then}.
   */
  private void stubAnswers(StepRequested step, String first, String then) {
    String scenario = "answers-" + step.stepId();
    gateway.stubFor(
        chatFor(step)
            .inScenario(scenario)
            .whenScenarioStateIs(Scenario.STARTED)
            .willReturn(completion(first))
            .willSetStateTo("answered"));
    gateway.stubFor(
        chatFor(step)
            .inScenario(scenario)
            .whenScenarioStateIs("answered")
            .willReturn(completion(then)));
  }

  private List<LoggedRequest> callsFor(StepRequested step) {
    return gateway.findAll(chatCallsOf(step));
  }

  private <T extends AtelierEvent> T awaitOne(StepRequested step, Class<T> type) {
    List<AtelierEvent> results = inbox.awaitResultsOf(step.stepId());
    assertThat(results.get(0)).isInstanceOf(type);
    return type.cast(results.get(0));
  }

  private ArtifactRef writeArtifact(UUID workflowId, String name, JsonNode content) {
    return writeArtifact(workflowId, name, "json", content);
  }

  private ArtifactRef writeArtifact(UUID workflowId, String name, String kind, JsonNode content) {
    return writeArtifact(workflowId, "test:" + UUID.randomUUID(), name, kind, content);
  }

  private ArtifactRef writeArtifact(
      UUID workflowId, String key, String name, String kind, JsonNode content) {
    ObjectNode body = JSON.createObjectNode();
    body.put("name", name).put("kind", kind).set("content", content);
    String ref =
        given()
            .contentType(ContentType.JSON)
            .header("Idempotency-Key", key)
            .body(body.toString())
            .post(contextUrl + "/api/v1/workflows/{wf}/artifacts", workflowId)
            .then()
            .statusCode(201)
            .extract()
            .path("ref");
    return ArtifactRef.parse(ref);
  }

  private JsonNode readArtifact(UUID workflowId, String name, int version) throws Exception {
    String body =
        given()
            .get(
                contextUrl + "/api/v1/workflows/{wf}/artifacts/{name}/versions/{v}",
                workflowId,
                name,
                version)
            .then()
            .statusCode(200)
            .extract()
            .asString();
    return JSON.readTree(body);
  }

  private SpanData span(String name, UUID stepId) {
    return spans.exporter().getFinishedSpanItems().stream()
        .filter(s -> s.getName().equals(name))
        .filter(
            s ->
                stepId
                    .toString()
                    .equals(s.getAttributes().get(AttributeKey.stringKey("atelier.step.id"))))
        .findFirst()
        .orElse(null);
  }
}
