package dev.atelier.gateway;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.matchingJsonPath;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.matching.RequestPatternBuilder;
import dev.atelier.contracts.LlmCallRecorded;
import dev.atelier.kit.amqp.RabbitBroker;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Deployment aliases, fallback and circuit breakers against two upstream stubs: {@code openai}
 * ({@link WireMockUpstream}) and the managed provider {@code backup} (a second WireMock server).
 * Each scenario uses its own alias and models, so their breakers are independent.
 */
@QuarkusTest
@TestProfile(AliasRoutingProfile.class)
class AliasRoutingTest {

  static final String ADMIN = "Bearer atelier-local-admin-key";
  static final String BACKUP_KEY = "sk-backup-0123456789";
  static WireMockServer backup;

  @Inject RabbitBroker broker;
  RecordedCalls records;

  @BeforeAll
  static void startBackup() {
    backup = new WireMockServer(options().dynamicPort());
    backup.start();
    backup.stubFor(get(urlEqualTo("/v1/models")).willReturn(okJson("{\"data\":[]}")));
    backup.stubFor(post(urlEqualTo("/v1/chat/completions")).willReturn(okJson(answer("backup"))));
    backup.stubFor(
        post(urlEqualTo("/v1/chat/completions"))
            .withRequestBody(matchingJsonPath("$.stream", equalTo("true")))
            .willReturn(
                aResponse()
                    .withHeader("Content-Type", "text/event-stream")
                    .withBody(
                        """
                        data: {"id":"c1","object":"chat.completion.chunk","model":"gpt-4o-mini","choices":[{"index":0,"delta":{"role":"assistant","content":"from "}}]}

                        data: {"id":"c1","object":"chat.completion.chunk","model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"backup"},"finish_reason":"stop"}]}

                        data: {"id":"c1","object":"chat.completion.chunk","model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}}

                        data: [DONE]

                        """)));
  }

  @AfterAll
  static void stopBackup() {
    backup.stop();
  }

  static String answer(String who) {
    return """
        {"id":"chatcmpl-%s","object":"chat.completion","created":1745000000,"model":"gpt-4o-mini",
         "choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant",
         "content":"from %s"}}],"usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12}}
        """
        .formatted(who, who);
  }

  static WireMockServer primary() {
    return WireMockUpstream.server();
  }

  static RequestPatternBuilder chatFor(String model) {
    return postRequestedFor(urlEqualTo("/v1/chat/completions"))
        .withRequestBody(matchingJsonPath("$.model", equalTo(model)));
  }

  static void stubPrimary(
      String model, com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder r) {
    primary()
        .stubFor(
            post(urlEqualTo("/v1/chat/completions"))
                .withRequestBody(matchingJsonPath("$.model", equalTo(model)))
                .willReturn(r));
  }

  @BeforeEach
  void registerBackup() throws Exception {
    records = new RecordedCalls(broker);
    records.prepare();
    Response existing = given().header("Authorization", ADMIN).get("/admin/providers/backup");
    String url = backup.baseUrl() + "/v1";
    if (existing.statusCode() == 200 && url.equals(existing.jsonPath().getString("baseUrl"))) {
      return;
    }
    if (existing.statusCode() == 200) {
      given()
          .header("Authorization", ADMIN)
          .delete("/admin/providers/backup")
          .then()
          .statusCode(204);
    }
    ManagedProviderAdmin.addAndAwaitUp("backup", url, BACKUP_KEY);
  }

  private static Response chat(String model, UUID workflowId) {
    return given()
        .header("Authorization", "Bearer atelier-local-key")
        .header("X-Atelier-Workflow-Id", workflowId.toString())
        .contentType(ContentType.JSON)
        .body("{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")
        .post("/v1/chat/completions");
  }

  /** One part of {@code /admin/providers/health}: {@code providers} or {@code deployments}. */
  private static List<Map<String, Object>> healthOf(String part) {
    return given()
        .header("Authorization", ADMIN)
        .get("/admin/providers/health")
        .then()
        .statusCode(200)
        .extract()
        .jsonPath()
        .getList(part);
  }

  private static Map<String, Object> health(String provider, String model) {
    return healthOf("deployments").stream()
        .filter(d -> provider.equals(d.get("provider")) && model.equals(d.get("model")))
        .findFirst()
        .orElseThrow();
  }

  private static String gauge(String model) {
    return metricLine(
            "atelier_llm_provider_circuit_open", "model=\"" + model + "\"", "provider=\"openai\"")
        .orElseThrow();
  }

  /** The first exported line of {@code name} carrying every one of {@code labels}. */
  private static java.util.Optional<String> metricLine(String name, String... labels) {
    return given()
        .get("/q/metrics")
        .asString()
        .lines()
        .filter(l -> l.startsWith(name + "{"))
        .filter(l -> java.util.Arrays.stream(labels).allMatch(l::contains))
        .findFirst();
  }

  @Test
  void embeddingsOfAnAliasFallBackLikeChat() throws Exception {
    primary()
        .stubFor(
            post(urlEqualTo("/v1/embeddings"))
                .withRequestBody(matchingJsonPath("$.model", equalTo("e-fallback")))
                .willReturn(aResponse().withStatus(503).withBody("down")));
    backup.stubFor(
        post(urlEqualTo("/v1/embeddings"))
            .willReturn(
                okJson(
                    """
                    {"object":"list","data":[{"object":"embedding","index":0,
                     "embedding":[0.6,0.8]}],"model":"e-fallback",
                     "usage":{"prompt_tokens":5,"total_tokens":5}}
                    """)));
    UUID workflowId = UUID.randomUUID();
    Response r =
        given()
            .header("Authorization", "Bearer atelier-local-key")
            .header("X-Atelier-Workflow-Id", workflowId.toString())
            .contentType(ContentType.JSON)
            .body("{\"model\":\"emb\",\"input\":\"parcel tracking\"}")
            .post("/v1/embeddings");
    assertThat(r.statusCode()).as(r.asString()).isEqualTo(200);
    assertThat(r.jsonPath().getList("data[0].embedding", Float.class)).containsExactly(0.6f, 0.8f);
    RequestPatternBuilder embeddingsFor =
        postRequestedFor(urlEqualTo("/v1/embeddings"))
            .withRequestBody(matchingJsonPath("$.model", equalTo("e-fallback")));
    primary().verify(1, embeddingsFor);
    backup.verify(1, embeddingsFor);
    LlmCallRecorded record =
        await()
            .atMost(Duration.ofSeconds(15))
            .until(() -> records.forWorkflow(workflowId), l -> l.size() == 1)
            .get(0);
    assertThat(record.operation()).isEqualTo("embeddings");
    assertThat(record.provider()).isEqualTo("backup");
    assertThat(record.requestModel()).isEqualTo("emb");
    assertThat(record.status()).isEqualTo(LlmCallRecorded.STATUS_OK);
    assertThat(record.inputTokens()).isEqualTo(5);
    assertThat(record.fallbackPath()).isEqualTo("openai:e-fallback=502");
    assertThat(health("openai", "e-fallback").get("lastError").toString()).contains("502");
  }

  @Test
  void aRetryableFailureFallsBackToTheNextDeploymentAndTheRecordNamesIt() throws Exception {
    stubPrimary("m-fallback", aResponse().withStatus(503).withBody("down"));
    UUID workflowId = UUID.randomUUID();
    Response r = chat("fb", workflowId);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.jsonPath().getString("choices[0].message.content")).isEqualTo("from backup");
    primary().verify(1, chatFor("m-fallback"));
    backup.verify(1, chatFor("m-fallback"));
    LlmCallRecorded record =
        await()
            .atMost(Duration.ofSeconds(15))
            .until(() -> records.forWorkflow(workflowId), l -> l.size() == 1)
            .get(0);
    assertThat(record.provider()).isEqualTo("backup");
    assertThat(record.requestModel()).isEqualTo("fb");
    assertThat(record.status()).isEqualTo(LlmCallRecorded.STATUS_OK);
    assertThat(record.inputTokens()).isEqualTo(9);
    assertThat(record.fallbackPath()).isEqualTo("openai:m-fallback=502");
    assertThat(health("openai", "m-fallback").get("lastError").toString()).contains("502");

    // A stream that fails before its first chunk falls back too.
    UUID streamWorkflow = UUID.randomUUID();
    String streamed =
        given()
            .header("Authorization", "Bearer atelier-local-key")
            .header("X-Atelier-Workflow-Id", streamWorkflow.toString())
            .contentType(ContentType.JSON)
            .body(
                "{\"model\":\"fb\",\"stream\":true,"
                    + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")
            .post("/v1/chat/completions")
            .then()
            .statusCode(200)
            .extract()
            .asString();
    assertThat(streamed).contains("\"content\":\"backup\"").contains("[DONE]");
    primary().verify(2, chatFor("m-fallback"));
    LlmCallRecorded streamRecord =
        await()
            .atMost(Duration.ofSeconds(15))
            .until(() -> records.forWorkflow(streamWorkflow), l -> l.size() == 1)
            .get(0);
    assertThat(streamRecord.provider()).isEqualTo("backup");
    assertThat(streamRecord.status()).isEqualTo(LlmCallRecorded.STATUS_OK);
    assertThat(streamRecord.outputTokens()).isEqualTo(2);
  }

  @Test
  void periodicHealthChecksSteerAnAliasAroundADownProviderUntilItRecovers() throws Exception {
    // Both providers pass their checks (GET /v1/models) to begin with.
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> providerUp("openai") && providerUp("backup"));
    assertThat(providerGauge("openai")).isEqualTo("1.0");

    var down =
        primary()
            .stubFor(
                get(urlEqualTo("/v1/models"))
                    .atPriority(1)
                    .willReturn(aResponse().withStatus(503).withBody("maintenance")));
    try {
      await().atMost(Duration.ofSeconds(10)).until(() -> !providerUp("openai"));
      Map<String, Object> openai = provider("openai");
      assertThat(openai.get("status")).isEqualTo(503);
      assertThat(openai.get("error").toString()).contains("503");
      assertThat(providerGauge("openai")).isEqualTo("0.0");

      // The alias skips the down provider's deployment without calling it, and says so.
      stubPrimary("m-health", okJson(answer("openai")));
      UUID workflowId = UUID.randomUUID();
      Response r = chat("hc", workflowId);
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.jsonPath().getString("choices[0].message.content")).isEqualTo("from backup");
      primary().verify(0, chatFor("m-health"));
      LlmCallRecorded record =
          await()
              .atMost(Duration.ofSeconds(15))
              .until(() -> records.forWorkflow(workflowId), l -> l.size() == 1)
              .get(0);
      assertThat(record.fallbackPath()).isEqualTo("openai:m-health=provider_down");
    } finally {
      primary().removeStub(down);
    }

    await().atMost(Duration.ofSeconds(10)).until(() -> providerUp("openai"));
    Response again = chat("hc", UUID.randomUUID());
    assertThat(again.jsonPath().getString("choices[0].message.content")).isEqualTo("from openai");
    primary().verify(1, chatFor("m-health"));
  }

  private static boolean providerUp(String name) {
    Map<String, Object> p = provider(name);
    return p != null && Boolean.TRUE.equals(p.get("up"));
  }

  private static Map<String, Object> provider(String name) {
    return healthOf("providers").stream()
        .filter(p -> name.equals(p.get("provider")))
        .findFirst()
        .orElse(null);
  }

  private static String providerGauge(String name) {
    return metricLine("atelier_llm_provider_up", "provider=\"" + name + "\"")
        .map(l -> l.split("} ", 2)[1].split(" ")[0])
        .orElse(null);
  }

  @Test
  void tenFailuresOpenTheCircuitWhichSkipsTheDeploymentUntilAProbeClosesIt() {
    stubPrimary("m-circuit", aResponse().withStatus(503).withBody("down"));
    for (int i = 0; i < 10; i++) {
      Response r = chat("cb", UUID.randomUUID());
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.jsonPath().getString("choices[0].message.content")).isEqualTo("from backup");
    }
    primary().verify(10, chatFor("m-circuit"));
    Map<String, Object> open = health("openai", "m-circuit");
    assertThat(open.get("state")).isEqualTo("open");
    assertThat(((Number) open.get("failureRatio")).doubleValue()).isEqualTo(1.0);
    assertThat(open.get("openUntil")).isNotNull();
    assertThat(gauge("m-circuit")).endsWith(" 1.0");

    // Open: the next calls skip the primary without calling it.
    for (int i = 0; i < 3; i++) {
      assertThat(chat("cb", UUID.randomUUID()).jsonPath().getString("choices[0].message.content"))
          .isEqualTo("from backup");
    }
    primary().verify(10, chatFor("m-circuit"));

    // The primary recovers; after the cool-off one probe goes through and closes the circuit.
    stubPrimary("m-circuit", okJson(answer("primary")));
    await()
        .atMost(Duration.ofSeconds(10))
        .pollInterval(Duration.ofMillis(200))
        .until(
            () ->
                "from primary"
                    .equals(
                        chat("cb", UUID.randomUUID())
                            .jsonPath()
                            .getString("choices[0].message.content")));
    primary().verify(11, chatFor("m-circuit"));
    assertThat(health("openai", "m-circuit").get("state")).isEqualTo("closed");
    assertThat(gauge("m-circuit")).endsWith(" 0.0");
    assertThat(chat("cb", UUID.randomUUID()).jsonPath().getString("choices[0].message.content"))
        .isEqualTo("from primary");
  }

  @Test
  void a429WithRetryAfterSkipsTheDeploymentForThatLong() {
    stubPrimary(
        "m-ratelimit",
        aResponse()
            .withStatus(429)
            .withHeader("Retry-After", "2")
            .withHeader("Content-Type", "application/json")
            .withBody("{\"error\":{\"message\":\"slow down\",\"type\":\"rate_limit_error\"}}"));
    long first = System.nanoTime();
    assertThat(chat("rl", UUID.randomUUID()).statusCode()).isEqualTo(200);
    primary().verify(1, chatFor("m-ratelimit"));
    Map<String, Object> cooling = health("openai", "m-ratelimit");
    assertThat(cooling.get("state")).isEqualTo("closed");
    assertThat(cooling.get("cooldownUntil")).isNotNull();
    // Still cooling down: answered by the backup without calling the primary.
    assertThat(chat("rl", UUID.randomUUID()).jsonPath().getString("choices[0].message.content"))
        .isEqualTo("from backup");
    primary().verify(1, chatFor("m-ratelimit"));
    await()
        .atMost(Duration.ofSeconds(8))
        .pollInterval(Duration.ofMillis(100))
        .until(
            () -> {
              chat("rl", UUID.randomUUID());
              return primary().countRequestsMatching(chatFor("m-ratelimit").build()).getCount()
                  == 2;
            });
    assertThat(Duration.ofNanos(System.nanoTime() - first)).isGreaterThan(Duration.ofMillis(1800));
  }

  @Test
  void weightedAliasSpreadsCallsOverHealthyDeployments() {
    stubPrimary("m-weighted", okJson(answer("primary")));
    for (int i = 0; i < 40; i++) {
      assertThat(chat("w", UUID.randomUUID()).statusCode()).isEqualTo(200);
    }
    int toPrimary = primary().countRequestsMatching(chatFor("m-weighted").build()).getCount();
    int toBackup = backup.countRequestsMatching(chatFor("m-weighted").build()).getCount();
    assertThat(toPrimary + toBackup).isEqualTo(40);
    assertThat(toPrimary).isPositive();
    assertThat(toBackup).isGreaterThan(toPrimary);
  }

  @Test
  void healthNeedsTheAdminKey() {
    Response r = given().header("Authorization", "Bearer wrong").get("/admin/providers/health");
    assertThat(r.statusCode()).isEqualTo(401);
    assertThat(r.contentType()).startsWith("application/problem+json");
    JsonPath body = r.jsonPath();
    assertThat(body.getInt("status")).isEqualTo(401);
  }
}
