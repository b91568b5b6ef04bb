package dev.atelier.gateway;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.matchingJsonPath;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.http.Fault;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import dev.atelier.contracts.EventChecks;
import dev.atelier.contracts.LlmCallRecorded;
import dev.atelier.gateway.Tokens.Message;
import dev.atelier.gateway.service.TokenCounter;
import dev.atelier.kit.amqp.RabbitBroker;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The gateway in front of an OpenAI-compatible provider (WireMock): bodies and streams passed
 * through, provider usage metered with cached and reasoning tokens, estimates when usage is
 * missing, and provider errors mapped without retrying what is not worth retrying.
 */
@QuarkusTest
@TestProfile(OpenAiUpstreamProfile.class)
class OpenAiUpstreamTest {

  static final String KEY = "Bearer atelier-local-key";
  static final String PATH = "/v1/chat/completions";

  @Inject RabbitBroker broker;
  @Inject ObjectMapper mapper;
  @Inject TokenCounter tokens;

  @TestHTTPResource("/v1/chat/completions")
  URI chatUrl;

  RecordedCalls records;
  WireMockServer upstream;

  @BeforeEach
  void prepare() throws Exception {
    records = new RecordedCalls(broker);
    records.prepare();
    upstream = WireMockUpstream.server();
  }

  /** A request whose user message carries a marker, so each test's stub matches only its calls. */
  private String request(String model, String marker, boolean stream, Boolean includeUsage) {
    ObjectNode body = mapper.createObjectNode();
    body.put("model", model);
    body.putArray("messages").addObject().put("role", "user").put("content", marker);
    if (stream) {
      body.put("stream", true);
      if (includeUsage != null) {
        body.putObject("stream_options").put("include_usage", includeUsage);
      }
    }
    body.putArray("tools")
        .addObject()
        .put("type", "function")
        .putObject("function")
        .put("name", "lookup_parcel")
        .putObject("parameters")
        .put("type", "object");
    return body.toString();
  }

  private Response call(UUID workflowId, String body) {
    return given()
        .header("Authorization", KEY)
        .header("X-Atelier-Workflow-Id", workflowId.toString())
        .contentType(ContentType.JSON)
        .body(body)
        .post(PATH);
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
    await()
        .during(Duration.ofMillis(700))
        .atMost(Duration.ofSeconds(3))
        .untilAsserted(() -> assertThat(records.forWorkflow(workflowId)).hasSize(1));
    return found.get(0);
  }

  private static String marker() {
    return "marker-" + UUID.randomUUID();
  }

  /** The provider answers {@code status} with the JSON {@code body} to requests carrying it. */
  private void answerError(String marker, int status, String body) {
    upstream.stubFor(
        post(urlEqualTo(PATH))
            .withRequestBody(containing(marker))
            .willReturn(
                aResponse()
                    .withStatus(status)
                    .withHeader("Content-Type", "application/json")
                    .withBody(body)));
  }

  /** The provider answers {@code answer} (JSON, 200) to requests carrying {@code marker}. */
  private void answerWith(String marker, String answer) {
    answerWith(marker, answer, 0);
  }

  /** The same, {@code delayMs} after the request. */
  private void answerWith(String marker, String answer, int delayMs) {
    upstream.stubFor(
        post(urlEqualTo(PATH))
            .withRequestBody(containing(marker))
            .willReturn(
                aResponse()
                    .withHeader("Content-Type", "application/json")
                    .withBody(answer)
                    .withFixedDelay(delayMs)));
  }

  /** A chat completion of one choice answering {@code content}, without usage. */
  private ObjectNode completionOf(String id, String model, String content) {
    ObjectNode answer = mapper.createObjectNode();
    answer.put("id", id).put("object", "chat.completion").put("model", model);
    ObjectNode choice = answer.putArray("choices").addObject();
    choice.put("index", 0).put("finish_reason", "stop");
    choice.putObject("message").put("role", "assistant").put("content", content);
    return answer;
  }

  @Test
  void cachedAndReasoningTokensAreMeteredAndTheBodyPassesThrough() throws Exception {
    String marker = marker();
    String answer =
        """
        {"id":"chatcmpl-abc","object":"chat.completion","created":1745000000,
         "model":"o4-mini-2025-04-16",
         "choices":[{"index":0,"message":{"role":"assistant","content":"Parcel 42 is in Leeds.",
           "refusal":null},"logprobs":null,"finish_reason":"stop"}],
         "usage":{"prompt_tokens":1200,"completion_tokens":300,"total_tokens":1500,
           "prompt_tokens_details":{"cached_tokens":1024,"audio_tokens":0},
           "completion_tokens_details":{"reasoning_tokens":128,"audio_tokens":0}}}""";
    answerWith(marker, answer);
    UUID workflowId = UUID.randomUUID();
    String body = request("o4-mini", marker, false, null);

    Response response;
    try (LogCapture logs = new LogCapture()) {
      response = call(workflowId, body);
      // The key is configured with a trailing newline (see the profile): stripped, never logged.
      assertThat(logs.lines()).noneMatch(l -> l.contains(OpenAiUpstreamProfile.PROVIDER_KEY));
    }

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.asString()).isEqualTo(answer);
    List<LoggedRequest> sent =
        upstream.findAll(postRequestedFor(urlEqualTo(PATH)).withRequestBody(containing(marker)));
    assertThat(sent).hasSize(1);
    LoggedRequest upstreamRequest = sent.get(0);
    // Nothing to change (same model, not a stream): the caller's bytes go upstream as they are.
    assertThat(upstreamRequest.getBodyAsString()).isEqualTo(body);
    // The provider key, never the caller's gateway key, goes upstream; tools pass through.
    assertThat(upstreamRequest.getHeader("Authorization"))
        .isEqualTo("Bearer " + OpenAiUpstreamProfile.PROVIDER_KEY);
    JsonNode forwarded = mapper.readTree(upstreamRequest.getBodyAsString());
    assertThat(forwarded.path("model").asText()).isEqualTo("o4-mini");
    assertThat(forwarded.path("tools").get(0).path("function").path("name").asText())
        .isEqualTo("lookup_parcel");

    LlmCallRecorded record = onlyRecord(workflowId);
    assertThat(record.provider()).isEqualTo("openai");
    assertThat(record.simulated()).isFalse();
    assertThat(record.requestModel()).isEqualTo("o4-mini");
    assertThat(record.responseModel()).isEqualTo("o4-mini-2025-04-16");
    assertThat(record.inputTokens()).isEqualTo(1200);
    assertThat(record.cachedInputTokens()).isEqualTo(1024);
    assertThat(record.outputTokens()).isEqualTo(300);
    assertThat(record.reasoningTokens()).isEqualTo(128);
    assertThat(record.usageSource()).isEqualTo(LlmCallRecorded.USAGE_PROVIDER);
    // (1200 - 1024) x 1.10 + 1024 x 0.275 + 300 x 4.40, per 1M tokens
    assertThat(record.costUsd())
        .isEqualByComparingTo(Tokens.cost(1200, 1024, 300, "1.10", "0.275", "4.40"))
        .isEqualByComparingTo(new BigDecimal("0.0017952"));
    assertThat(record.priceVersion()).isEqualTo("openai/o4-mini@openai-2025-04");
    // The upstream HTTP call carries the call's trace context.
    assertThat(upstreamRequest.getHeader("traceparent")).contains(record.traceId());
  }

  @Test
  void whatAProviderReportsIsRecordedWithinTheLedgersChecks() {
    // A model name with half a surrogate pair, counts below zero and past 2^31: as sent, the
    // record would be dead-lettered by the ledger (and the call's spend never counted).
    String marker = marker();
    answerWith(
        marker,
        """
        {"id":"chatcmpl-odd","object":"chat.completion","created":1745000000,
         "model":"o4-mini\\ud800-x","choices":[{"index":0,"message":{"role":"assistant",
         "content":"ok"},"finish_reason":"stop"}],
         "usage":{"prompt_tokens":-5,"completion_tokens":3000000000,"total_tokens":12,
           "completion_tokens_details":{"reasoning_tokens":-1}}}""");
    UUID workflowId = UUID.randomUUID();

    assertThat(call(workflowId, request("o4-mini", marker, false, null)).statusCode())
        .isEqualTo(200);

    LlmCallRecorded record = onlyRecord(workflowId);
    assertThat(record.responseModel()).isEqualTo("o4-mini-x");
    assertThat(record.inputTokens()).isZero();
    assertThat(record.outputTokens()).isEqualTo(Integer.MAX_VALUE);
    assertThat(record.reasoningTokens()).isZero();
    assertThatCode(() -> EventChecks.check(record)).doesNotThrowAnyException();
  }

  @Test
  void aProviderErrorCodeThatIsNotANameIsRecordedAsProviderError() {
    String marker = marker();
    answerError(
        marker,
        400,
        "{\"error\":{\"message\":\"no\",\"type\":\"invalid_request_error\","
            + "\"code\":\"bad\\u0000"
            + "x".repeat(2_000)
            + "\"}}");
    UUID workflowId = UUID.randomUUID();

    assertThat(call(workflowId, request("gpt-4o", marker, false, null)).statusCode())
        .isEqualTo(400);

    LlmCallRecorded record = onlyRecord(workflowId);
    assertThat(record.errorCode()).isEqualTo("provider_error");
    assertThatCode(() -> EventChecks.check(record)).doesNotThrowAnyException();
  }

  @Test
  void theCallersBaggageDoesNotGoUpstreamButItsTraceDoes() {
    String marker = marker();
    answerWith(
        marker,
        """
        {"id":"chatcmpl-bag","object":"chat.completion","created":1745000000,
         "model":"o4-mini","choices":[{"index":0,"message":{"role":"assistant",
         "content":"ok"},"finish_reason":"stop"}],
         "usage":{"prompt_tokens":10,"completion_tokens":2,"total_tokens":12}}""");
    UUID workflowId = UUID.randomUUID();
    String traceId = UUID.randomUUID().toString().replace("-", "");

    Response response =
        given()
            .header("Authorization", KEY)
            .header("traceparent", "00-" + traceId + "-00f067aa0ba902b7-01")
            // What a caller may propagate inside its own system: who it is, what it may spend.
            .header(
                "baggage",
                "atelier.workflow_id=" + workflowId + ",atelier.team=team-a,internal.tenant=acme")
            .contentType(ContentType.JSON)
            .body(request("o4-mini", marker, false, null))
            .post(PATH);

    assertThat(response.statusCode()).isEqualTo(200);
    // The baggage still attributes the call...
    assertThat(onlyRecord(workflowId).traceId()).isEqualTo(traceId);
    // ...but the provider is outside: it gets the trace to correlate with, not the baggage.
    LoggedRequest sent =
        upstream
            .findAll(postRequestedFor(urlEqualTo(PATH)).withRequestBody(containing(marker)))
            .get(0);
    assertThat(sent.getHeader("traceparent")).contains(traceId);
    assertThat(sent.containsHeader("baggage")).isFalse();
  }

  @Test
  void aModelNameWithControlCharactersFromTheProviderIsRecordedWithoutThem() {
    String marker = marker();
    // JSON escapes for NUL and BEL inside the provider's model name.
    String answer =
        """
        {"id":"chatcmpl-nul","object":"chat.completion","created":1745000000,
         "model":"o4-mini\\u0000-2025\\u0007",
         "choices":[{"index":0,"message":{"role":"assistant","content":"ok"},
           "finish_reason":"stop"}],
         "usage":{"prompt_tokens":10,"completion_tokens":2,"total_tokens":12}}""";
    answerWith(marker, answer);
    UUID workflowId = UUID.randomUUID();

    Response response = call(workflowId, request("o4-mini", marker, false, null));

    // The caller gets the provider's answer as it is; the ledger gets a name it can store (a NUL
    // would dead-letter the record in tracking-service and leave the call unmetered).
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.asString()).isEqualTo(answer);
    LlmCallRecorded record = onlyRecord(workflowId);
    assertThat(record.responseModel()).isEqualTo("o4-mini-2025");
    assertThat(record.inputTokens()).isEqualTo(10);
  }

  @Test
  void missingUsageIsEstimatedWithTheTokenizerAndAliasesMapTheModel() throws Exception {
    String marker = marker();
    String content = "Parcel tracking ships in the next sprint, with email notifications.";
    ObjectNode answer = completionOf("chatcmpl-xyz", "gpt-4o-mini", content);
    // More than one choice (n > 1): each was generated, and is counted.
    String second = "Second, shorter: email notifications only.";
    ObjectNode other = answer.withArray("choices").addObject();
    other.put("index", 1).put("finish_reason", "stop");
    other.putObject("message").put("role", "assistant").put("content", second);
    String refusal = "I cannot help with that request.";
    ObjectNode refused = answer.withArray("choices").addObject();
    refused.put("index", 2).put("finish_reason", "stop");
    refused
        .putObject("message")
        .put("role", "assistant")
        .putNull("content")
        .put("refusal", refusal);
    long output = Tokens.text(content) + Tokens.text(second) + Tokens.text(refusal);
    answerWith(marker, answer.toString());
    UUID workflowId = UUID.randomUUID();

    Response response = call(workflowId, request("fast", marker, false, null));

    assertThat(response.statusCode()).isEqualTo(200);
    upstream.verify(
        1,
        postRequestedFor(urlEqualTo(PATH))
            .withRequestBody(containing(marker))
            .withRequestBody(matchingJsonPath("$.model", equalTo("gpt-4o-mini"))));
    // The rewritten body keeps everything but the model.
    JsonNode forwarded =
        mapper.readTree(
            upstream
                .findAll(postRequestedFor(urlEqualTo(PATH)).withRequestBody(containing(marker)))
                .get(0)
                .getBodyAsString());
    ObjectNode expected = (ObjectNode) mapper.readTree(request("fast", marker, false, null));
    expected.put("model", "gpt-4o-mini");
    assertThat(forwarded).isEqualTo(expected);
    LlmCallRecorded record = onlyRecord(workflowId);
    assertThat(record.requestModel()).isEqualTo("fast");
    assertThat(record.usageSource()).isEqualTo(LlmCallRecorded.USAGE_ESTIMATED);
    long tools =
        Tokens.O200K.countTokens(
            mapper.readTree(request("fast", marker, false, null)).path("tools").toString());
    long prompt = Tokens.prompt(List.of(new Message("user", marker))) + tools;
    assertThat(record.inputTokens()).isEqualTo(prompt);
    assertThat(record.outputTokens()).isEqualTo(output);
    assertThat(record.costUsd())
        .isEqualByComparingTo(Tokens.cost(prompt, 0, output, "0.15", "0.075", "0.60"));
  }

  @Test
  void embeddingsWithoutUsageAreEstimatedWithTheTokenizerAndPriced() {
    String marker = marker();
    String input = "Parcel tracking ships next sprint " + marker;
    upstream.stubFor(
        post(urlEqualTo("/v1/embeddings"))
            .withRequestBody(containing(marker))
            .willReturn(
                aResponse()
                    .withHeader("Content-Type", "application/json")
                    .withBody(
                        """
                        {"object":"list","model":"text-embedding-3-small","data":[{"object":
                         "embedding","index":0,"embedding":[0.6,0.8]}]}""")));
    UUID workflowId = UUID.randomUUID();

    Response response =
        given()
            .header("Authorization", KEY)
            .header("X-Atelier-Workflow-Id", workflowId.toString())
            .contentType(ContentType.JSON)
            .body(
                mapper
                    .createObjectNode()
                    .put("model", "text-embedding-3-small")
                    .put("input", input)
                    .toString())
            .post("/v1/embeddings");

    assertThat(response.statusCode()).isEqualTo(200);
    LlmCallRecorded record = onlyRecord(workflowId);
    assertThat(record.operation()).isEqualTo("embeddings");
    assertThat(record.usageSource()).isEqualTo(LlmCallRecorded.USAGE_ESTIMATED);
    long expected = Tokens.CL100K.countTokens(input);
    assertThat(expected).isPositive();
    assertThat(record.inputTokens()).isEqualTo(expected);
    assertThat(record.costUsd())
        .isPositive()
        .isEqualByComparingTo(Tokens.cost(expected, 0, 0, "0.02", "0.02", "0"));
  }

  @Test
  void upstream400KeepsItsStatusAndMessageAndIsNotRetried() {
    String marker = marker();
    answerError(
        marker,
        400,
        "{\"error\":{\"message\":\"Invalid value for 'tool_choice'.\","
            + "\"type\":\"invalid_request_error\",\"param\":\"tool_choice\","
            + "\"code\":\"invalid_value\"}}");
    UUID workflowId = UUID.randomUUID();

    Response response = call(workflowId, request("gpt-4o", marker, false, null));

    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(response.contentType()).startsWith("application/json");
    assertThat(response.jsonPath().getString("error.message"))
        .isEqualTo("Invalid value for 'tool_choice'.");
    assertThat(response.jsonPath().getString("error.type")).isEqualTo("invalid_request_error");
    assertThat(response.jsonPath().getString("error.param")).isEqualTo("tool_choice");
    assertThat(response.jsonPath().getString("error.code")).isEqualTo("invalid_value");
    upstream.verify(1, postRequestedFor(urlEqualTo(PATH)).withRequestBody(containing(marker)));
    LlmCallRecorded record = onlyRecord(workflowId);
    assertThat(record.status()).isEqualTo(LlmCallRecorded.STATUS_ERROR);
    assertThat(record.errorCode()).isEqualTo("invalid_value");
    assertThat(record.inputTokens()).isZero();
    assertThat(record.outputTokens()).isZero();
  }

  @Test
  void upstream5xxIsRetriedThen502() {
    String marker = marker();
    upstream.stubFor(
        post(urlEqualTo(PATH))
            .withRequestBody(containing(marker))
            .willReturn(aResponse().withStatus(503).withBody("overloaded")));
    UUID workflowId = UUID.randomUUID();

    Response response = call(workflowId, request("gpt-4o", marker, false, null));

    assertThat(response.statusCode()).isEqualTo(502);
    assertThat(response.jsonPath().getString("error.type")).isEqualTo("upstream_error");
    upstream.verify(3, postRequestedFor(urlEqualTo(PATH)).withRequestBody(containing(marker)));
    assertThat(onlyRecord(workflowId).status()).isEqualTo(LlmCallRecorded.STATUS_ERROR);
  }

  /**
   * A provider that resets the connection after reading the request: it has the prompt, and may
   * have billed it, so each such attempt counts the prompt; a 5xx answer (the 5xx test) counts
   * nothing.
   */
  @Test
  void attemptsTheProviderReadAndNeverAnsweredCountTheirPrompt() throws Exception {
    String marker = marker();
    upstream.stubFor(
        post(urlEqualTo(PATH))
            .withRequestBody(containing(marker))
            .inScenario(marker)
            .whenScenarioStateIs(Scenario.STARTED)
            .willReturn(aResponse().withFault(Fault.CONNECTION_RESET_BY_PEER))
            .willSetStateTo("answering"));
    ObjectNode answer = completionOf("chatcmpl-reset", "gpt-4o-2024-08-06", "Delay risk.");
    answer.putObject("usage").put("prompt_tokens", 40).put("completion_tokens", 3);
    upstream.stubFor(
        post(urlEqualTo(PATH))
            .withRequestBody(containing(marker))
            .inScenario(marker)
            .whenScenarioStateIs("answering")
            .willReturn(
                aResponse()
                    .withHeader("Content-Type", "application/json")
                    .withBody(answer.toString())));
    String body = request("gpt-4o", marker, false, null);
    long prompt = tokens.promptTokens("gpt-4o", mapper.readTree(body));
    UUID workflowId = UUID.randomUUID();

    assertThat(call(workflowId, body).statusCode()).isEqualTo(200);

    upstream.verify(2, postRequestedFor(urlEqualTo(PATH)).withRequestBody(containing(marker)));
    LlmCallRecorded answered = onlyRecord(workflowId);
    assertThat(answered.status()).isEqualTo(LlmCallRecorded.STATUS_OK);
    assertThat(answered.inputTokens())
        .as("the answer's 40 and the reset attempt's prompt")
        .isEqualTo(40 + prompt);
    assertThat(answered.outputTokens()).isEqualTo(3);
    assertThat(answered.usageSource()).isEqualTo(LlmCallRecorded.USAGE_ESTIMATED);

    String never = marker();
    upstream.stubFor(
        post(urlEqualTo(PATH))
            .withRequestBody(containing(never))
            .willReturn(aResponse().withFault(Fault.CONNECTION_RESET_BY_PEER)));
    String neverBody = request("gpt-4o", never, false, null);
    UUID failedWorkflow = UUID.randomUUID();

    Response failed = call(failedWorkflow, neverBody);

    assertThat(failed.statusCode()).isEqualTo(503);
    upstream.verify(3, postRequestedFor(urlEqualTo(PATH)).withRequestBody(containing(never)));
    LlmCallRecorded lost = onlyRecord(failedWorkflow);
    assertThat(lost.status()).isEqualTo(LlmCallRecorded.STATUS_ERROR);
    assertThat(lost.errorCode()).isEqualTo("provider_unavailable");
    assertThat(lost.inputTokens())
        .as("three attempts read")
        .isEqualTo(3 * tokens.promptTokens("gpt-4o", mapper.readTree(neverBody)));
    assertThat(lost.outputTokens()).isZero();
    assertThat(lost.costUsd()).isPositive();
  }

  @Test
  void anAnswerLargerThanTheLimitIs502NotRetriedAndRecorded() {
    // 300 kB against the profile's 256 kB: sent whole (with its length), dribbled in chunks, and as
    // one stream event.
    String big =
        "{\"id\":\"chatcmpl-big\",\"object\":\"chat.completion\",\"created\":1,"
            + "\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"message\":{\"role\":"
            + "\"assistant\",\"content\":\""
            + "x".repeat(300_000)
            + "\"},\"finish_reason\":\"stop\"}]}";
    for (boolean dribbled : new boolean[] {false, true}) {
      String marker = marker();
      var answer = aResponse().withHeader("Content-Type", "application/json").withBody(big);
      upstream.stubFor(
          post(urlEqualTo(PATH))
              .withRequestBody(containing(marker))
              .willReturn(dribbled ? answer.withChunkedDribbleDelay(20, 200) : answer));
      UUID workflowId = UUID.randomUUID();

      Response response = call(workflowId, request("gpt-4o", marker, false, null));

      assertThat(response.statusCode()).as("dribbled %s", dribbled).isEqualTo(502);
      assertThat(response.jsonPath().getString("error.code"))
          .isEqualTo("provider_response_too_large");
      upstream.verify(1, postRequestedFor(urlEqualTo(PATH)).withRequestBody(containing(marker)));
      LlmCallRecorded record = onlyRecord(workflowId);
      assertThat(record.status()).isEqualTo(LlmCallRecorded.STATUS_ERROR);
      assertThat(record.errorCode()).isEqualTo("provider_response_too_large");
    }

    // An error answer past 64 kB keeps the provider's status, without its message.
    String errorMarker = marker();
    answerError(errorMarker, 400, "{\"error\":{\"message\":\"" + "z".repeat(100_000) + "\"}}");
    Response refused = call(UUID.randomUUID(), request("gpt-4o", errorMarker, false, null));
    assertThat(refused.statusCode()).isEqualTo(400);
    assertThat(refused.jsonPath().getString("error.message"))
        .isEqualTo("The provider answered HTTP 400");

    String marker = marker();
    stubStream(
        marker,
        sse(chunk("{\"role\":\"assistant\",\"content\":\"" + "y".repeat(300_000) + "\"}", null)));
    UUID workflowId = UUID.randomUUID();
    Response streamed = call(workflowId, request("gpt-4o", marker, true, null));
    assertThat(streamed.statusCode()).isEqualTo(502);
    assertThat(streamed.asString()).contains("provider_response_too_large");
    upstream.verify(1, postRequestedFor(urlEqualTo(PATH)).withRequestBody(containing(marker)));
    assertThat(onlyRecord(workflowId).errorCode()).isEqualTo("provider_response_too_large");
  }

  @Test
  void providerRefusingTheGatewayKeyIs502WithoutEchoingTheProvider() {
    String marker = marker();
    answerError(
        marker,
        401,
        "{\"error\":{\"message\":\"Incorrect API key provided: sk-test-***789\","
            + "\"type\":\"invalid_request_error\",\"code\":\"invalid_api_key\"}}");
    Response response = call(UUID.randomUUID(), request("gpt-4o", marker, false, null));
    assertThat(response.statusCode()).isEqualTo(502);
    assertThat(response.jsonPath().getString("error.code"))
        .isEqualTo("provider_authentication_failed");
    assertThat(response.asString()).doesNotContain("sk-test");
    upstream.verify(1, postRequestedFor(urlEqualTo(PATH)).withRequestBody(containing(marker)));
  }

  private static String sse(String... payloads) {
    StringBuilder sb = new StringBuilder();
    for (String p : payloads) {
      sb.append("data: ").append(p).append("\n\n");
    }
    return sb.toString();
  }

  private static String chunk(String delta, String finish) {
    return "{\"id\":\"chatcmpl-s\",\"object\":\"chat.completion.chunk\",\"created\":1,"
        + "\"model\":\"gpt-4o-2024-08-06\",\"choices\":[{\"index\":0,\"delta\":"
        + delta
        + ",\"finish_reason\":"
        + (finish == null ? "null" : "\"" + finish + "\"")
        + "}]}";
  }

  private static final String USAGE =
      "{\"prompt_tokens\":90,\"completion_tokens\":12,\"total_tokens\":102,"
          + "\"prompt_tokens_details\":{\"cached_tokens\":64}}";

  private void stubStream(String marker, String body) {
    upstream.stubFor(
        post(urlEqualTo(PATH))
            .withRequestBody(containing(marker))
            .willReturn(
                aResponse()
                    .withHeader("Content-Type", "text/event-stream")
                    .withBody(body)
                    .withChunkedDribbleDelay(7, 60)));
  }

  @Test
  void streamIsRelayedAndTheUsageChunkTheCallerDidNotAskForIsStripped() throws Exception {
    String marker = marker();
    stubStream(
        marker,
        sse(
            chunk("{\"role\":\"assistant\",\"content\":\"\"}", null),
            chunk("{\"content\":\"Parcel ü \"}", null),
            chunk("{\"content\":\"is in Leeds.\"}", null),
            chunk("{}", "stop"),
            "{\"id\":\"chatcmpl-s\",\"object\":\"chat.completion.chunk\",\"created\":1,"
                + "\"model\":\"gpt-4o-2024-08-06\",\"choices\":[],\"usage\":"
                + USAGE
                + "}",
            "[DONE]"));
    UUID workflowId = UUID.randomUUID();

    Response response = call(workflowId, request("gpt-4o", marker, true, null));

    assertThat(response.statusCode()).isEqualTo(200);
    List<String> events = SimulatedChatTest.events(response.asString());
    assertThat(events).hasSize(5).last().isEqualTo("[DONE]");
    assertThat(events.subList(0, 4)).noneMatch(e -> e.contains("usage"));
    StringBuilder text = new StringBuilder();
    for (String e : events.subList(0, 4)) {
      text.append(
          mapper.readTree(e).path("choices").get(0).path("delta").path("content").asText(""));
    }
    assertThat(text.toString()).isEqualTo("Parcel ü is in Leeds.");
    // The gateway asked for usage although the caller did not.
    upstream.verify(
        1,
        postRequestedFor(urlEqualTo(PATH))
            .withRequestBody(containing(marker))
            .withRequestBody(matchingJsonPath("$.stream_options.include_usage", equalTo("true"))));

    LlmCallRecorded record = onlyRecord(workflowId);
    assertThat(record.streamed()).isTrue();
    assertThat(record.usageSource()).isEqualTo(LlmCallRecorded.USAGE_PROVIDER);
    assertThat(record.inputTokens()).isEqualTo(90);
    assertThat(record.cachedInputTokens()).isEqualTo(64);
    assertThat(record.outputTokens()).isEqualTo(12);
    assertThat(record.responseModel()).isEqualTo("gpt-4o-2024-08-06");
    assertThat(record.costUsd())
        .isEqualByComparingTo(Tokens.cost(90, 64, 12, "2.50", "1.25", "10.00"));
    assertThat(record.priceVersion()).isEqualTo("openai/gpt-4o@openai-2024-10");
    assertThat(record.timeToFirstTokenMs()).isNotNull();
  }

  @Test
  void usageOnAChoicesChunkIsReadAndRemovedButTheChoicesKept() throws Exception {
    String marker = marker();
    String last =
        "{\"id\":\"chatcmpl-s\",\"object\":\"chat.completion.chunk\",\"created\":1,"
            + "\"model\":\"gpt-4o-2024-08-06\",\"choices\":[{\"index\":0,\"delta\":{},"
            + "\"finish_reason\":\"stop\"}],\"usage\":"
            + USAGE
            + "}";
    stubStream(marker, sse(chunk("{\"content\":\"Shipped.\"}", null), last, "[DONE]"));
    UUID workflowId = UUID.randomUUID();

    Response response = call(workflowId, request("gpt-4o", marker, true, false));

    List<String> events = SimulatedChatTest.events(response.asString());
    assertThat(events).hasSize(3).last().isEqualTo("[DONE]");
    JsonNode finish = mapper.readTree(events.get(1));
    assertThat(finish.has("usage")).isFalse();
    assertThat(finish.path("choices").get(0).path("finish_reason").asText()).isEqualTo("stop");
    LlmCallRecorded record = onlyRecord(workflowId);
    assertThat(record.inputTokens()).isEqualTo(90);
    assertThat(record.outputTokens()).isEqualTo(12);
  }

  @Test
  void streamWithUsageAskedForKeepsItAndStreamWithoutUsageIsEstimated() throws Exception {
    String asked = marker();
    stubStream(
        asked,
        sse(
            chunk("{\"content\":\"Shipped.\"}", null),
            "{\"id\":\"chatcmpl-s\",\"object\":\"chat.completion.chunk\",\"created\":1,"
                + "\"model\":\"gpt-4o\",\"choices\":[],\"usage\":"
                + USAGE
                + "}",
            "[DONE]"));
    List<String> events =
        SimulatedChatTest.events(
            call(UUID.randomUUID(), request("gpt-4o", asked, true, true)).asString());
    assertThat(mapper.readTree(events.get(1)).path("usage").path("prompt_tokens").asLong())
        .isEqualTo(90);

    String silent = marker();
    stubStream(
        silent,
        sse(
            chunk("{\"content\":\"Out for \"}", null),
            chunk("{\"content\":\"delivery.\"}", "stop"),
            "[DONE]"));
    UUID workflowId = UUID.randomUUID();
    Response response = call(workflowId, request("gpt-4o", silent, true, null));
    assertThat(SimulatedChatTest.events(response.asString())).hasSize(3);
    LlmCallRecorded record = onlyRecord(workflowId);
    assertThat(record.usageSource()).isEqualTo(LlmCallRecorded.USAGE_ESTIMATED);
    assertThat(record.outputTokens()).isEqualTo(Tokens.text("Out for delivery."));
    assertThat(record.inputTokens()).isPositive();
  }

  @Test
  void unknownModelIs404WhenModelsAreStrictAndNeverReachesTheProvider() {
    String marker = marker();
    Response response = call(UUID.randomUUID(), request("no-such-model", marker, false, null));
    assertThat(response.statusCode()).isEqualTo(404);
    assertThat(response.jsonPath().getString("error.code")).isEqualTo("model_not_found");
    upstream.verify(0, postRequestedFor(urlEqualTo(PATH)).withRequestBody(containing(marker)));
  }

  @Test
  void aliasToTheSimulatedProviderStaysSimulated() {
    UUID workflowId = UUID.randomUUID();
    String marker = marker();
    assertThat(call(workflowId, request("sim", marker, false, null)).statusCode()).isEqualTo(200);
    upstream.verify(0, postRequestedFor(urlEqualTo(PATH)).withRequestBody(containing(marker)));
    LlmCallRecorded record = onlyRecord(workflowId);
    assertThat(record.provider()).isEqualTo("simulated");
    assertThat(record.requestModel()).isEqualTo("sim");
    assertThat(record.priceVersion()).isEqualTo("simulated-as:openai/gpt-4o@openai-2024-10");
  }

  @Test
  void aCallerHangingUpOnACompleteCallLeavesItToFinishAndRecordsWhatTheProviderBilled()
      throws Exception {
    String marker = marker();
    ObjectNode answer = completionOf("chatcmpl-late", "gpt-4o", "A long answer.");
    answer
        .putObject("usage")
        .put("prompt_tokens", 1234)
        .put("completion_tokens", 567)
        .put("total_tokens", 1801);
    answerWith(marker, answer.toString(), 2_000);
    UUID workflowId = UUID.randomUUID();
    HttpRequest request =
        HttpRequest.newBuilder(chatUrl)
            .header("Authorization", KEY)
            .header("Content-Type", "application/json")
            .header("X-Atelier-Workflow-Id", workflowId.toString())
            .timeout(Duration.ofMillis(300)) // the caller gives up while the provider works
            .POST(HttpRequest.BodyPublishers.ofString(request("gpt-4o", marker, false, null)))
            .build();
    assertThatThrownBy(
            () -> HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString()))
        .isInstanceOf(java.net.http.HttpTimeoutException.class);

    // The provider finished and billed the answer: recorded as it reported it.
    LlmCallRecorded record = onlyRecord(workflowId);
    assertThat(record.status()).isEqualTo(LlmCallRecorded.STATUS_OK);
    assertThat(record.usageSource()).isEqualTo(LlmCallRecorded.USAGE_PROVIDER);
    assertThat(record.inputTokens()).isEqualTo(1234);
    assertThat(record.outputTokens()).isEqualTo(567);
    upstream.verify(1, postRequestedFor(urlEqualTo(PATH)).withRequestBody(containing(marker)));
  }

  @Test
  void callerLeavingMidStreamIsRecordedWithTheTokensProduced() throws Exception {
    String marker = marker();
    String[] payloads = new String[41];
    for (int i = 0; i < 40; i++) {
      payloads[i] = chunk("{\"content\":\"word" + i + " \"}", null);
    }
    payloads[40] = "[DONE]";
    upstream.stubFor(
        post(urlEqualTo(PATH))
            .withRequestBody(containing(marker))
            .willReturn(
                aResponse()
                    .withHeader("Content-Type", "text/event-stream")
                    .withBody(sse(payloads))
                    .withChunkedDribbleDelay(40, 8000)));
    UUID workflowId = UUID.randomUUID();
    HttpRequest request =
        HttpRequest.newBuilder(chatUrl)
            .header("Authorization", KEY)
            .header("Content-Type", "application/json")
            .header("X-Atelier-Workflow-Id", workflowId.toString())
            .POST(HttpRequest.BodyPublishers.ofString(request("gpt-4o", marker, true, null)))
            .build();
    HttpClient client = HttpClient.newHttpClient();
    HttpResponse<InputStream> response =
        client.send(request, HttpResponse.BodyHandlers.ofInputStream());
    assertThat(response.statusCode()).isEqualTo(200);
    try (BufferedReader reader =
        new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = reader.readLine()) != null && !line.startsWith("data: ")) {
        // wait for the first event, then hang up
      }
      assertThat(line).startsWith("data: ");
    }

    LlmCallRecorded record = onlyRecord(workflowId);
    assertThat(record.status()).isEqualTo(LlmCallRecorded.STATUS_ERROR);
    assertThat(record.errorCode()).isEqualTo("client_disconnected");
    assertThat(record.usageSource()).isEqualTo(LlmCallRecorded.USAGE_ESTIMATED);
    assertThat(record.inputTokens()).isPositive();
    StringBuilder all = new StringBuilder();
    for (int i = 0; i < 40; i++) {
      all.append("word").append(i).append(' ');
    }
    assertThat(record.outputTokens()).isPositive().isLessThan(Tokens.text(all.toString()));
    assertThat(record.costUsd()).isPositive();
  }
}
