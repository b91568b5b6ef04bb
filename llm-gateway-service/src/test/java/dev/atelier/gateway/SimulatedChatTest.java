package dev.atelier.gateway;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SchemaValidatorsConfig;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import dev.atelier.contracts.LlmCallRecorded;
import dev.atelier.gateway.Tokens.Message;
import dev.atelier.kit.amqp.RabbitBroker;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The OpenAI-compatible API answered by the simulated provider, metered and recorded. */
@QuarkusTest
class SimulatedChatTest {

  static final String KEY = "Bearer atelier-local-key";
  static final String PROMPT =
      "Order tracking for a parcel shop: customers want to see where their parcel is, get an"
          + " email when it ships, and change the delivery address before dispatch.";
  static final String SYSTEM = "You are a business analyst. Answer with user stories.";

  static final String SCHEMA =
      """
      {
        "type": "object",
        "properties": {
          "summary": {"type": "string", "minLength": 20},
          "userStories": {"type": "array", "minItems": 2, "maxItems": 5,
                          "items": {"$ref": "#/$defs/story"}},
          "verdict": {"type": "string", "enum": ["approved", "changes_requested"]},
          "risks": {"type": ["array", "null"], "items": {"type": "string", "maxLength": 60}},
          "estimate": {"anyOf": [{"type": "integer", "minimum": 1, "maximum": 13}, {"type": "null"}]},
          "confidence": {"type": "number", "minimum": 0, "maximum": 1},
          "contact": {"type": "string", "format": "email"}
        },
        "required": ["summary", "userStories", "verdict", "risks", "estimate", "confidence", "contact"],
        "additionalProperties": false,
        "$defs": {
          "story": {
            "type": "object",
            "properties": {
              "id": {"type": "string"},
              "title": {"type": "string", "maxLength": 80},
              "description": {"type": "string"},
              "acceptanceCriteria": {"type": "array", "minItems": 1, "items": {"type": "string"}},
              "priority": {"type": "string", "enum": ["must", "should", "could"]},
              "points": {"type": "integer", "minimum": 1, "maximum": 8},
              "createdAt": {"type": "string", "format": "date-time"},
              "done": {"type": "boolean"}
            },
            "required": ["id", "title", "description", "acceptanceCriteria", "priority", "points",
                         "createdAt", "done"],
            "additionalProperties": false
          }
        }
      }
      """;

  @Inject RabbitBroker broker;
  @Inject ObjectMapper mapper;
  @Inject InMemorySpanExporter spans;

  RecordedCalls records;

  @BeforeEach
  void prepare() throws Exception {
    records = new RecordedCalls(broker);
    records.prepare();
  }

  private ObjectNode request(String model, String prompt) {
    ObjectNode body = mapper.createObjectNode();
    body.put("model", model);
    ArrayNode messages = body.putArray("messages");
    messages.addObject().put("role", "system").put("content", SYSTEM);
    messages.addObject().put("role", "user").put("content", prompt);
    return body;
  }

  private ObjectNode schemaRequest() throws Exception {
    ObjectNode body = request("gpt-4o-mini", PROMPT);
    body.put("temperature", 0.2);
    ObjectNode format = body.putObject("response_format");
    format.put("type", "json_schema");
    ObjectNode spec = format.putObject("json_schema");
    spec.put("name", "user_stories");
    spec.put("strict", true);
    spec.set("schema", mapper.readTree(SCHEMA));
    return body;
  }

  private LlmCallRecorded onlyRecord(UUID workflowId) {
    List<LlmCallRecorded> found = new ArrayList<>();
    await()
        .atMost(Duration.ofSeconds(15))
        .untilAsserted(
            () -> {
              found.clear();
              found.addAll(records.forWorkflow(workflowId));
              assertThat(found).isNotEmpty();
            });
    // Exactly one: no second record follows for the same call.
    await()
        .during(Duration.ofMillis(700))
        .atMost(Duration.ofSeconds(3))
        .untilAsserted(() -> assertThat(records.forWorkflow(workflowId)).hasSize(1));
    return found.get(0);
  }

  private void noRecord(UUID workflowId) {
    await()
        .during(Duration.ofMillis(700))
        .atMost(Duration.ofSeconds(3))
        .untilAsserted(() -> assertThat(records.forWorkflow(workflowId)).isEmpty());
  }

  @Test
  void jsonSchemaAnswerConformsIsCountedAndRecordedOnceWithItsCost() throws Exception {
    UUID workflowId = UUID.randomUUID();
    String traceId = UUID.randomUUID().toString().replace("-", "");
    Response response =
        given()
            .header("Authorization", KEY)
            .header("X-Atelier-Workflow-Id", workflowId.toString())
            .header("X-Atelier-Step-Id", "analyse")
            .header("X-Atelier-Agent", "business-analyst")
            .header("X-Atelier-Conversation-Id", "conv-1")
            .header("traceparent", "00-" + traceId + "-00f067aa0ba902b7-01")
            .contentType(ContentType.JSON)
            .body(schemaRequest().toString())
            .post("/v1/chat/completions");
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.contentType()).startsWith("application/json");
    JsonNode body = mapper.readTree(response.asString());
    assertThat(body.path("object").asText()).isEqualTo("chat.completion");
    assertThat(body.path("choices").get(0).path("finish_reason").asText()).isEqualTo("stop");
    String content = body.path("choices").get(0).path("message").path("content").asText();

    // The content is JSON valid against the requested schema (checked by a real validator).
    JsonNode answer = mapper.readTree(content);
    SchemaValidatorsConfig strictFormats =
        SchemaValidatorsConfig.builder().formatAssertionsEnabled(true).build();
    JsonSchema schema =
        JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012)
            .getSchema(mapper.readTree(SCHEMA), strictFormats);
    Set<ValidationMessage> errors = schema.validate(answer);
    assertThat(errors).isEmpty();
    // ... and meaningful: derived from the prompt and the property names, first enum value.
    assertThat(answer.path("verdict").asText()).isEqualTo("approved");
    assertThat(answer.path("userStories").get(0).path("title").asText())
        .isEqualTo("Order tracking: user story 1");
    assertThat(answer.path("userStories").get(1).path("id").asText()).isEqualTo("US-2");

    // Usage equals the tokenizer's count of this exact prompt and answer.
    long prompt =
        Tokens.prompt(List.of(new Message("system", SYSTEM), new Message("user", PROMPT)));
    long completion = Tokens.text(content);
    JsonNode usage = body.path("usage");
    assertThat(usage.path("prompt_tokens").asLong()).isEqualTo(prompt);
    assertThat(usage.path("completion_tokens").asLong()).isEqualTo(completion);
    assertThat(usage.path("total_tokens").asLong()).isEqualTo(prompt + completion);

    // Exactly one record, priced as gpt-4o-mini (0.15 in / 0.60 out per 1M tokens).
    LlmCallRecorded record = onlyRecord(workflowId);
    assertThat(record.eventId().toString()).isEqualTo(response.header("X-Atelier-Call-Id"));
    assertThat(record.type()).isEqualTo(LlmCallRecorded.TYPE);
    assertThat(record.status()).isEqualTo(LlmCallRecorded.STATUS_OK);
    assertThat(record.team()).isEqualTo("default");
    assertThat(record.stepId()).isEqualTo("analyse");
    assertThat(record.agent()).isEqualTo("business-analyst");
    assertThat(record.conversationId()).isEqualTo("conv-1");
    assertThat(record.operation()).isEqualTo("chat");
    assertThat(record.provider()).isEqualTo("simulated");
    assertThat(record.simulated()).isTrue();
    assertThat(record.streamed()).isFalse();
    assertThat(record.requestModel()).isEqualTo("gpt-4o-mini");
    assertThat(record.responseModel()).isEqualTo("gpt-4o-mini");
    assertThat(record.inputTokens()).isEqualTo(prompt);
    assertThat(record.outputTokens()).isEqualTo(completion);
    assertThat(record.cachedInputTokens()).isZero();
    assertThat(record.reasoningTokens()).isZero();
    assertThat(record.usageSource()).isEqualTo(LlmCallRecorded.USAGE_PROVIDER);
    BigDecimal expected = Tokens.cost(prompt, 0, completion, "0.15", "0.075", "0.60");
    assertThat(record.costUsd()).isEqualByComparingTo(expected);
    assertThat(record.costUsd().scale()).isGreaterThanOrEqualTo(10);
    assertThat(record.priceVersion()).isEqualTo("simulated-as:openai/gpt-4o-mini@openai-2024-07");
    assertThat(record.traceId()).isEqualTo(traceId);
    assertThat(record.latencyMs()).isGreaterThanOrEqualTo(0);
    assertThat(record.timeToFirstTokenMs()).isNull();
    assertThat(record.startedAt()).isBeforeOrEqualTo(record.occurredAt());

    // The chat span: GenAI attributes, CLIENT kind, in the caller's trace, and no prompt text.
    SpanData span = chatSpan(workflowId);
    assertThat(span.getName()).isEqualTo("chat gpt-4o-mini");
    assertThat(span.getKind()).isEqualTo(SpanKind.CLIENT);
    assertThat(span.getTraceId()).isEqualTo(traceId);
    var attrs = span.getAttributes();
    assertThat(attrs.get(AttributeKey.stringKey("gen_ai.operation.name"))).isEqualTo("chat");
    assertThat(attrs.get(AttributeKey.stringKey("gen_ai.provider.name"))).isEqualTo("simulated");
    assertThat(attrs.get(AttributeKey.stringKey("gen_ai.request.model"))).isEqualTo("gpt-4o-mini");
    assertThat(attrs.get(AttributeKey.stringKey("gen_ai.response.model"))).isEqualTo("gpt-4o-mini");
    assertThat(attrs.get(AttributeKey.longKey("gen_ai.usage.input_tokens"))).isEqualTo(prompt);
    assertThat(attrs.get(AttributeKey.longKey("gen_ai.usage.output_tokens"))).isEqualTo(completion);
    assertThat(attrs.get(AttributeKey.stringKey("gen_ai.conversation.id"))).isEqualTo("conv-1");
    assertThat(attrs.get(AttributeKey.stringKey("gen_ai.agent.name")))
        .isEqualTo("business-analyst");
    assertThat(attrs.get(AttributeKey.stringKey("atelier.step.id"))).isEqualTo("analyse");
    assertThat(attrs.get(AttributeKey.booleanKey("atelier.simulated"))).isTrue();
    attrs.forEach(
        (k, v) -> {
          assertThat(String.valueOf(v)).doesNotContain("parcel shop").doesNotContain("US-1");
        });

    // Metrics carry the call.
    String metrics = given().get("/q/metrics").asString();
    assertThat(metrics)
        .contains("gen_ai_client_token_usage_count{")
        .contains("gen_ai_token_type=\"input\"")
        .contains("gen_ai_client_operation_duration_seconds_count{")
        .contains("atelier_llm_cost_usd_total{");
  }

  private SpanData chatSpan(UUID workflowId) {
    List<SpanData> found = new ArrayList<>();
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () -> {
              found.clear();
              spans.getFinishedSpanItems().stream()
                  .filter(s -> s.getName().startsWith("chat "))
                  .filter(
                      s ->
                          workflowId
                              .toString()
                              .equals(
                                  s.getAttributes()
                                      .get(AttributeKey.stringKey("atelier.workflow.id"))))
                  .forEach(found::add);
              assertThat(found).hasSize(1);
            });
    return found.get(0);
  }

  @Test
  void sameRequestGetsSameContent() throws Exception {
    String body = schemaRequest().toString();
    String first = content(body);
    String second = content(body);
    assertThat(second).isEqualTo(first);
  }

  private String content(String body) throws Exception {
    String json =
        given()
            .header("Authorization", KEY)
            .contentType(ContentType.JSON)
            .body(body)
            .post("/v1/chat/completions")
            .then()
            .statusCode(200)
            .extract()
            .asString();
    return mapper.readTree(json).path("choices").get(0).path("message").path("content").asText();
  }

  @Test
  void streamSendsChunksAndDoneWithoutUsageUnlessAsked() throws Exception {
    UUID workflowId = UUID.randomUUID();
    ObjectNode plain = request("gpt-4o", PROMPT);
    String expected = content(plain.toString());

    ObjectNode body = request("gpt-4o", PROMPT);
    body.put("stream", true);
    Response response =
        given()
            .header("Authorization", KEY)
            .header("X-Atelier-Workflow-Id", workflowId.toString())
            .contentType(ContentType.JSON)
            .body(body.toString())
            .post("/v1/chat/completions");
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.contentType()).startsWith("text/event-stream");
    List<String> events = events(response.asString());
    assertThat(events).last().isEqualTo("[DONE]");
    List<JsonNode> chunks = chunks(events);
    assertThat(chunks)
        .allSatisfy(c -> assertThat(c.path("object").asText()).isEqualTo("chat.completion.chunk"));
    assertThat(chunks).noneMatch(c -> c.hasNonNull("usage"));
    assertThat(chunks.get(chunks.size() - 1).path("choices").get(0).path("finish_reason").asText())
        .isEqualTo("stop");
    StringBuilder text = new StringBuilder();
    chunks.forEach(
        c -> text.append(c.path("choices").path(0).path("delta").path("content").asText("")));
    assertThat(text.toString()).isEqualTo(expected);

    long prompt =
        Tokens.prompt(List.of(new Message("system", SYSTEM), new Message("user", PROMPT)));
    LlmCallRecorded record = onlyRecord(workflowId);
    assertThat(record.streamed()).isTrue();
    assertThat(record.inputTokens()).isEqualTo(prompt);
    assertThat(record.outputTokens()).isEqualTo(Tokens.text(expected));
    assertThat(record.timeToFirstTokenMs()).isNotNull().isLessThanOrEqualTo(record.latencyMs());
    assertThat(record.costUsd())
        .isEqualByComparingTo(
            Tokens.cost(prompt, 0, Tokens.text(expected), "2.50", "1.25", "10.00"));
  }

  @Test
  void streamEndsWithUsageChunkWhenAsked() throws Exception {
    ObjectNode body = request("gpt-4o", PROMPT);
    body.put("stream", true);
    body.putObject("stream_options").put("include_usage", true);
    Response response =
        given()
            .header("Authorization", KEY)
            .contentType(ContentType.JSON)
            .body(body.toString())
            .post("/v1/chat/completions");
    assertThat(response.statusCode()).isEqualTo(200);
    List<String> events = events(response.asString());
    assertThat(events).last().isEqualTo("[DONE]");
    List<JsonNode> chunks = chunks(events);
    JsonNode last = chunks.get(chunks.size() - 1);
    assertThat(last.path("choices").isEmpty()).isTrue();
    long prompt =
        Tokens.prompt(List.of(new Message("system", SYSTEM), new Message("user", PROMPT)));
    assertThat(last.path("usage").path("prompt_tokens").asLong()).isEqualTo(prompt);
    assertThat(chunks.subList(0, chunks.size() - 1)).noneMatch(c -> c.hasNonNull("usage"));
  }

  @Test
  void attributionFromBaggageWhenHeadersAreAbsent() throws Exception {
    UUID workflowId = UUID.randomUUID();
    given()
        .header("Authorization", "Bearer test-key-team-a")
        .header(
            "baggage",
            "atelier.workflow_id=" + workflowId + ",atelier.step_id=review,atelier.agent=reviewer")
        .contentType(ContentType.JSON)
        .body(request("my-local-model", "Review the invoice export").toString())
        .post("/v1/chat/completions")
        .then()
        .statusCode(200);
    LlmCallRecorded record = onlyRecord(workflowId);
    assertThat(record.team()).isEqualTo("team-a");
    assertThat(record.stepId()).isEqualTo("review");
    assertThat(record.agent()).isEqualTo("reviewer");
    // No real price for this model: the explicit simulated default, named as such.
    assertThat(record.priceVersion()).isEqualTo("simulated/*@simulated-default-v1");
    assertThat(record.costUsd()).isNotNull().isPositive();
  }

  @Test
  void missingOrUnknownKeyIs401InOpenAiShapeAndNotRecorded() {
    UUID workflowId = UUID.randomUUID();
    for (String auth : new String[] {null, "Bearer not-a-key", "Basic abc"}) {
      var spec = given().header("X-Atelier-Workflow-Id", workflowId.toString());
      if (auth != null) {
        spec = spec.header("Authorization", auth);
      }
      Response r =
          spec.contentType(ContentType.JSON)
              .body(request("gpt-4o", "hello").toString())
              .post("/v1/chat/completions");
      assertThat(r.statusCode()).isEqualTo(401);
      assertThat(r.contentType()).startsWith("application/json");
      assertThat(r.jsonPath().getString("error.code")).isEqualTo("invalid_api_key");
      assertThat(r.jsonPath().getString("error.type")).isEqualTo("invalid_request_error");
      assertThat(r.jsonPath().getString("error.message")).isNotBlank();
    }
    given().get("/v1/models").then().statusCode(401);
    noRecord(workflowId);
  }

  @Test
  void malformedOrInvalidRequestsAre400InOpenAiShapeAndNotRecorded() {
    UUID workflowId = UUID.randomUUID();
    Response malformed =
        given()
            .header("Authorization", KEY)
            .header("X-Atelier-Workflow-Id", workflowId.toString())
            .contentType(ContentType.JSON)
            .body("{\"model\": \"gpt-4o\", \"messages\": [")
            .post("/v1/chat/completions");
    assertThat(malformed.statusCode()).isEqualTo(400);
    assertThat(malformed.contentType()).startsWith("application/json");
    assertThat(malformed.jsonPath().getString("error.type")).isEqualTo("invalid_request_error");
    assertThat(malformed.jsonPath().getString("error.code")).isEqualTo("invalid_json");

    // 600 kB of empty objects, far below the 4 MiB body limit: read whole, a tree of ~20 MB.
    Response tooComplex =
        given()
            .header("Authorization", KEY)
            .header("X-Atelier-Workflow-Id", workflowId.toString())
            .contentType(ContentType.JSON)
            .body(
                request("gpt-4o", "hi")
                    .toString()
                    .replaceFirst(
                        "\\}$",
                        ",\"metadata\":["
                            + String.join(",", Collections.nCopies(200_000, "{}"))
                            + "]}"))
            .post("/v1/chat/completions");
    assertThat(tooComplex.statusCode()).as(tooComplex.asString()).isEqualTo(400);
    assertThat(tooComplex.jsonPath().getString("error.code")).isEqualTo("invalid_json");
    assertThat(tooComplex.jsonPath().getString("error.message"))
        .contains("at most 200000 JSON tokens")
        .doesNotContain("StreamReadConstraints");

    Response noMessages =
        given()
            .header("Authorization", KEY)
            .header("X-Atelier-Workflow-Id", workflowId.toString())
            .contentType(ContentType.JSON)
            .body("{\"model\": \"gpt-4o\"}")
            .post("/v1/chat/completions");
    assertThat(noMessages.statusCode()).isEqualTo(400);
    assertThat(noMessages.jsonPath().getString("error.param")).isEqualTo("messages");

    Response badTemperature =
        given()
            .header("Authorization", KEY)
            .header("X-Atelier-Workflow-Id", workflowId.toString())
            .contentType(ContentType.JSON)
            .body(request("gpt-4o", "hi").put("temperature", 7).toString())
            .post("/v1/chat/completions");
    assertThat(badTemperature.statusCode()).isEqualTo(400);
    assertThat(badTemperature.jsonPath().getString("error.param")).isEqualTo("temperature");

    // More choices than OpenAI allows: refused before any budget is reserved for them.
    Response tooManyChoices =
        given()
            .header("Authorization", KEY)
            .header("X-Atelier-Workflow-Id", workflowId.toString())
            .contentType(ContentType.JSON)
            .body(request("gpt-4o", "hi").put("n", 129).put("max_tokens", 2147483647).toString())
            .post("/v1/chat/completions");
    assertThat(tooManyChoices.statusCode()).isEqualTo(400);
    assertThat(tooManyChoices.jsonPath().getString("error.param")).isEqualTo("n");

    Response badWorkflow =
        given()
            .header("Authorization", KEY)
            .header("X-Atelier-Workflow-Id", "not-a-uuid")
            .contentType(ContentType.JSON)
            .body(request("gpt-4o", "hi").toString())
            .post("/v1/chat/completions");
    assertThat(badWorkflow.statusCode()).isEqualTo(400);
    assertThat(badWorkflow.jsonPath().getString("error.param")).isEqualTo("X-Atelier-Workflow-Id");

    // A model name is recorded in the ledger, whose text cannot hold NUL: refused, not served
    // unmetered. The same for any control character, and for a name beyond 256 characters.
    for (String model :
        List.of("gpt-4o\0-mini", "gpt-4o\7", "m".repeat(257), "gpt-4o\ud800-mini")) {
      for (String path : List.of("/v1/chat/completions", "/v1/embeddings")) {
        ObjectNode body =
            path.endsWith("embeddings")
                ? mapper.createObjectNode().put("model", model).put("input", "hi")
                : request(model, "hi");
        Response badModel =
            given()
                .header("Authorization", KEY)
                .header("X-Atelier-Workflow-Id", workflowId.toString())
                .contentType(ContentType.JSON)
                // Half a surrogate pair travels escaped: as text it would be sent as '?'.
                .body(body.toString().replace("\ud800", "\\ud800"))
                .post(path);
        assertThat(badModel.statusCode()).as(path + " " + model.length()).isEqualTo(400);
        assertThat(badModel.jsonPath().getString("error.type")).isEqualTo("invalid_request_error");
        assertThat(badModel.jsonPath().getString("error.param")).isEqualTo("model");
      }
    }
    // Baggage values are percent-encoded, so unlike a header they can carry a control character.
    Response nulInBaggage =
        given()
            .header("Authorization", KEY)
            .header("X-Atelier-Workflow-Id", workflowId.toString())
            .header("baggage", "atelier.agent=archi%00tect")
            .contentType(ContentType.JSON)
            .body(request("gpt-4o", "hi").toString())
            .post("/v1/chat/completions");
    assertThat(nulInBaggage.statusCode()).isEqualTo(400);
    assertThat(nulInBaggage.jsonPath().getString("error.param")).isEqualTo("X-Atelier-Agent");
    noRecord(workflowId);
  }

  @Test
  void bodyAboveTheLimitIs413InOpenAiShape() {
    String huge = "x".repeat(4 * 1024 * 1024 + 10);
    Response r =
        given()
            .header("Authorization", KEY)
            .contentType(ContentType.JSON)
            .body(
                "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\""
                    + huge
                    + "\"}]}")
            .post("/v1/chat/completions");
    assertThat(r.statusCode()).isEqualTo(413);
    assertThat(r.jsonPath().getString("error.code")).isEqualTo("request_too_large");
  }

  @Test
  void modelsListsTheServedModels() {
    Response r = given().header("Authorization", KEY).get("/v1/models");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.jsonPath().getString("object")).isEqualTo("list");
    assertThat(r.jsonPath().getList("data.id", String.class))
        .contains("gpt-4o", "gpt-4o-mini", "o4-mini");
    assertThat(r.jsonPath().getList("data.owned_by", String.class)).containsOnly("simulated");
  }

  @Test
  void openApiDescribesTheGatewayAndHealthIsReady() {
    String openapi = given().queryParam("format", "json").get("/q/openapi").asString();
    assertThat(openapi).contains("/v1/chat/completions", "/v1/models", "/admin/prices");
    given().get("/q/health/ready").then().statusCode(200);
  }

  @Test
  void requestsAskingTheSimulatedProviderForTooMuchAre400InOpenAisShape() throws Exception {
    // A few bytes asking for two billion items, or 2048 x 3072 embedding numbers: refused at once.
    ObjectNode chat = mapper.createObjectNode();
    chat.put("model", "gpt-4o-mini");
    chat.putArray("messages").addObject().put("role", "user").put("content", PROMPT);
    ObjectNode format = chat.putObject("response_format").put("type", "json_schema");
    format
        .putObject("json_schema")
        .put("name", "huge")
        .set(
            "schema", mapper.readTree("{\"type\":\"array\",\"minItems\":2000000000,\"items\":{}}"));
    Response refused =
        given()
            .header("Authorization", KEY)
            .contentType(ContentType.JSON)
            .body(chat.toString())
            .post("/v1/chat/completions");
    assertThat(refused.statusCode()).isEqualTo(400);
    JsonNode error = mapper.readTree(refused.asString()).path("error");
    assertThat(error.path("type").asText()).isEqualTo("invalid_request_error");
    assertThat(error.path("code").asText()).isEqualTo("schema_too_large");
    assertThat(error.path("param").asText()).isEqualTo("response_format");
    assertThat(error.path("message").asText()).contains("minItems 2000000000", "at most 1000");

    ObjectNode embed = mapper.createObjectNode();
    embed.put("model", "text-embedding-3-large").put("dimensions", 3072);
    ArrayNode inputs = embed.putArray("input");
    for (int i = 0; i < 2048; i++) {
      inputs.add("parcel " + i);
    }
    Response tooMany =
        given()
            .header("Authorization", KEY)
            .contentType(ContentType.JSON)
            .body(embed.toString())
            .post("/v1/embeddings");
    assertThat(tooMany.statusCode()).isEqualTo(400);
    JsonNode embedError = mapper.readTree(tooMany.asString()).path("error");
    assertThat(embedError.path("code").asText()).isEqualTo("embeddings_too_large");
    assertThat(embedError.path("param").asText()).isEqualTo("input");
    assertThat(embedError.path("message").asText()).contains("250000", "2048 x 3072");
    // Just under the cap is served: 81 inputs of 3072 numbers.
    ObjectNode fits = mapper.createObjectNode();
    fits.put("model", "text-embedding-3-large");
    ArrayNode fitting = fits.putArray("input");
    for (int i = 0; i < 81; i++) {
      fitting.add("parcel " + i);
    }
    given()
        .header("Authorization", KEY)
        .contentType(ContentType.JSON)
        .body(fits.toString())
        .post("/v1/embeddings")
        .then()
        .statusCode(200);
  }

  @Test
  void anEmbeddingsBodyTooComplexToReadIs400AndTheLargestTokenIdRequestIsServed() throws Exception {
    // 350,000 empty objects, 700 kB: read whole, a tree of ~30 MB.
    String tooComplex =
        "{\"model\":\"text-embedding-3-small\",\"input\":\"hi\",\"user\":["
            + String.join(",", Collections.nCopies(350_000, "{}"))
            + "]}";
    Response refused =
        given()
            .header("Authorization", KEY)
            .contentType(ContentType.JSON)
            .body(tooComplex)
            .post("/v1/embeddings");
    assertThat(refused.statusCode()).as(refused.asString()).isEqualTo(400);
    JsonNode error = mapper.readTree(refused.asString()).path("error");
    assertThat(error.path("code").asText()).isEqualTo("invalid_json");
    assertThat(error.path("message").asText()).contains("at most 310000 JSON tokens");

    // OpenAI's largest embeddings request: 300,000 tokens, here as 40 inputs of 7,500 token ids.
    ObjectNode largest = mapper.createObjectNode();
    largest.put("model", "text-embedding-3-small").put("dimensions", 8);
    ArrayNode inputs = largest.putArray("input");
    for (int i = 0; i < 40; i++) {
      ArrayNode ids = inputs.addArray();
      for (int t = 0; t < 7_500; t++) {
        ids.add((i * 7_500 + t) % 100_000);
      }
    }
    Response served =
        given()
            .header("Authorization", KEY)
            .contentType(ContentType.JSON)
            .body(largest.toString())
            .post("/v1/embeddings");
    assertThat(served.statusCode()).as(served.asString()).isEqualTo(200);
    assertThat(mapper.readTree(served.asString()).path("data").size()).isEqualTo(40);
  }

  @Test
  void embeddingsAreDeterministicMeteredAndRecorded() throws Exception {
    UUID workflowId = UUID.randomUUID();
    String body =
        "{\"model\":\"text-embedding-3-small\",\"input\":[\"parcel tracking\",\"refunds\"],"
            + "\"dimensions\":8}";
    Response r =
        given()
            .header("Authorization", KEY)
            .header("X-Atelier-Workflow-Id", workflowId.toString())
            .contentType(ContentType.JSON)
            .body(body)
            .post("/v1/embeddings");
    assertThat(r.statusCode()).isEqualTo(200);
    JsonNode json = mapper.readTree(r.asString());
    assertThat(json.path("object").asText()).isEqualTo("list");
    assertThat(json.path("data")).hasSize(2);
    JsonNode first = json.path("data").get(0).path("embedding");
    assertThat(first).hasSize(8);
    double norm = 0;
    for (JsonNode v : first) {
      norm += v.asDouble() * v.asDouble();
    }
    assertThat(norm).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-5));
    assertThat(json.path("data").get(1).path("embedding")).isNotEqualTo(first);
    // Deterministic: the same input embeds the same way.
    JsonNode again =
        mapper.readTree(
            given()
                .header("Authorization", KEY)
                .contentType(ContentType.JSON)
                .body(body)
                .post("/v1/embeddings")
                .asString());
    assertThat(again.path("data").get(0).path("embedding")).isEqualTo(first);

    // text-embedding-3 models count with cl100k_base, as OpenAI does.
    com.knuddels.jtokkit.api.Encoding cl100k =
        com.knuddels.jtokkit.Encodings.newDefaultEncodingRegistry()
            .getEncoding(com.knuddels.jtokkit.api.EncodingType.CL100K_BASE);
    long tokens = cl100k.countTokens("parcel tracking") + cl100k.countTokens("refunds");
    assertThat(json.path("usage").path("prompt_tokens").asLong()).isEqualTo(tokens);
    LlmCallRecorded record = onlyRecord(workflowId);
    assertThat(record.operation()).isEqualTo("embeddings");
    assertThat(record.inputTokens()).isEqualTo(tokens);
    assertThat(record.outputTokens()).isZero();
    // Priced as text-embedding-3-small: 0.02 USD per 1M input tokens.
    assertThat(record.costUsd())
        .isEqualByComparingTo(
            new BigDecimal("0.02")
                .multiply(BigDecimal.valueOf(tokens))
                .divide(BigDecimal.valueOf(1_000_000)));
    assertThat(record.priceVersion())
        .isEqualTo("simulated-as:openai/text-embedding-3-small@openai-2024-01");

    // Bad input: 400 in OpenAI's shape, nothing recorded.
    UUID badWorkflow = UUID.randomUUID();
    Response bad =
        given()
            .header("Authorization", KEY)
            .header("X-Atelier-Workflow-Id", badWorkflow.toString())
            .contentType(ContentType.JSON)
            .body("{\"model\":\"text-embedding-3-small\",\"input\":[]}")
            .post("/v1/embeddings");
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(bad.jsonPath().getString("error.param")).isEqualTo("input");
    noRecord(badWorkflow);
  }

  @Test
  void adminPricesUseProblemJson() {
    given().get("/admin/prices").then().statusCode(401).contentType("application/problem+json");
    given()
        .header("Authorization", "Bearer atelier-local-admin-key")
        .queryParam("at", "yesterday")
        .get("/admin/prices")
        .then()
        .statusCode(400)
        .contentType("application/problem+json");
    Response r =
        given()
            .header("Authorization", "Bearer atelier-local-admin-key")
            .queryParam("provider", "openai")
            .get("/admin/prices");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.jsonPath().getList("model", String.class))
        .contains("gpt-4o", "gpt-4.1", "o4-mini");
    assertThat(r.jsonPath().getList("provider", String.class)).containsOnly("openai");
  }

  static List<String> events(String sse) {
    List<String> events = new ArrayList<>();
    for (String block : sse.split("\n\n")) {
      if (block.startsWith("data: ")) {
        events.add(block.substring("data: ".length()));
      }
    }
    return events;
  }

  private List<JsonNode> chunks(List<String> events) throws Exception {
    List<JsonNode> chunks = new ArrayList<>();
    for (String e : events) {
      if (!"[DONE]".equals(e)) {
        chunks.add(mapper.readTree(e));
      }
    }
    return chunks;
  }
}
