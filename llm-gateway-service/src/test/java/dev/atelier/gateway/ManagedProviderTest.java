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
import dev.atelier.contracts.LlmCallRecorded;
import dev.atelier.kit.amqp.RabbitBroker;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServer;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Providers added through {@code /admin/providers}: keys encrypted at rest and never shown,
 * asynchronous validation with its status, and calls routed as {@code <name>/<model>} to the
 * provider (a WireMock server; the only stub).
 */
@QuarkusTest
class ManagedProviderTest {

  static final String ADMIN = "Bearer atelier-local-admin-key";
  static final String SECRET = "sk-acme-secret-0123456789abcdef";
  static WireMockServer upstream;

  @Inject DataSource dataSource;
  @Inject RabbitBroker broker;

  @BeforeAll
  static void startUpstream() {
    upstream = new WireMockServer(options().dynamicPort());
    upstream.start();
    upstream.stubFor(
        get(urlEqualTo("/v1/models"))
            .withHeader("Authorization", equalTo("Bearer " + SECRET))
            .willReturn(okJson("{\"object\":\"list\",\"data\":[]}")));
    upstream.stubFor(
        get(urlEqualTo("/v1/models"))
            .atPriority(10)
            .willReturn(
                aResponse()
                    .withStatus(401)
                    .withHeader("Content-Type", "application/json")
                    .withBody(
                        "{\"error\":{\"message\":\"bad key\",\"code\":\"invalid_api_key\"}}")));
    upstream.stubFor(
        post(urlEqualTo("/v1/chat/completions"))
            .withHeader("Authorization", equalTo("Bearer " + SECRET))
            .withRequestBody(matchingJsonPath("$.model", equalTo("llama-3.1-8b")))
            .willReturn(
                okJson(
                    """
                    {"id":"chatcmpl-acme","object":"chat.completion","created":1745000000,
                     "model":"llama-3.1-8b","choices":[{"index":0,"finish_reason":"stop",
                     "message":{"role":"assistant","content":"Hello from acme"}}],
                     "usage":{"prompt_tokens":12,"completion_tokens":4,"total_tokens":16}}
                    """)));
    upstream.stubFor(
        post(urlEqualTo("/v1/embeddings"))
            .withHeader("Authorization", equalTo("Bearer " + SECRET))
            .withRequestBody(matchingJsonPath("$.model", equalTo("nomic-embed")))
            .willReturn(
                okJson(
                    """
                    {"object":"list","model":"nomic-embed","data":[{"object":"embedding",
                     "index":0,"embedding":[0.6,0.8]}],"usage":{"prompt_tokens":7,"total_tokens":7}}
                    """)));
  }

  @AfterAll
  static void stopUpstream() {
    upstream.stop();
  }

  private static String create(String name, String baseUrl, String key) {
    return "{\"name\":\""
        + name
        + "\",\"baseUrl\":\""
        + baseUrl
        + "\""
        + (key == null ? "" : ",\"apiKey\":\"" + key + "\"")
        + "}";
  }

  private static Response provider(String name) {
    return given().header("Authorization", ADMIN).get("/admin/providers/" + name);
  }

  @Test
  void anIdleConnectionToAProviderIsNotReusedPastTheKeepAliveTimeout() throws Exception {
    // Which server-side connection served each chat call.
    List<HttpConnection> served = new ArrayList<>();
    // A Vert.x of its own: the application's registers its servers' metrics, which this one's
    // would clash with.
    Vertx vertx = Vertx.vertx();
    HttpServer server =
        vertx
            .createHttpServer()
            .requestHandler(
                req -> {
                  if (req.path().endsWith("/models")) {
                    req.response()
                        .putHeader("Content-Type", "application/json")
                        .end("{\"object\":\"list\",\"data\":[]}");
                    return;
                  }
                  req.body()
                      .onSuccess(
                          b -> {
                            synchronized (served) {
                              served.add(req.connection());
                            }
                            req.response()
                                .putHeader("Content-Type", "application/json")
                                .end(
                                    "{\"id\":\"chatcmpl-idle\",\"object\":\"chat.completion\","
                                        + "\"model\":\"llama-3.1-8b\",\"choices\":[{\"index\":0,"
                                        + "\"finish_reason\":\"stop\",\"message\":{\"role\":"
                                        + "\"assistant\",\"content\":\"hi\"}}],\"usage\":"
                                        + "{\"prompt_tokens\":3,\"completion_tokens\":1,"
                                        + "\"total_tokens\":4}}");
                          });
                });
    server
        .listen(0, "127.0.0.1")
        .toCompletionStage()
        .toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
    String name = "idle-" + UUID.randomUUID().toString().substring(0, 8);
    try {
      ManagedProviderAdmin.addAndAwaitUp(
          name, "http://127.0.0.1:" + server.actualPort() + "/v1", SECRET);
      String chat =
          "{\"model\":\""
              + name
              + "/llama-3.1-8b\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

      for (int i = 0; i < 3; i++) {
        if (i == 2) {
          // Idle for longer than the keep-alive timeout (1 s in tests; Vert.x's default is 60 s).
          TimeUnit.MILLISECONDS.sleep(3_000);
        }
        given()
            .header("Authorization", "Bearer atelier-local-key")
            .contentType(ContentType.JSON)
            .body(chat)
            .post("/v1/chat/completions")
            .then()
            .statusCode(200);
      }

      synchronized (served) {
        assertThat(served).hasSize(3);
        assertThat(served.get(1)).as("back to back: reused").isSameAs(served.get(0));
        assertThat(served.get(2))
            .as("after the idle time: a new connection")
            .isNotSameAs(served.get(1));
      }
    } finally {
      given().header("Authorization", ADMIN).delete("/admin/providers/" + name);
      vertx.close();
    }
  }

  @Test
  void keyIsEncryptedNeverShownAndTheProviderIsValidatedAndServesCalls() throws Exception {
    String name = "acme-" + UUID.randomUUID().toString().substring(0, 8);
    Response created =
        given()
            .header("Authorization", ADMIN)
            .contentType(ContentType.JSON)
            .body(create(name, upstream.baseUrl() + "/v1", SECRET))
            .post("/admin/providers");
    assertThat(created.statusCode()).isEqualTo(201);
    assertThat(created.asString()).doesNotContain(SECRET);
    assertThat(created.jsonPath().getBoolean("apiKeySet")).isTrue();

    // Validated asynchronously with GET /models and the right key.
    await()
        .atMost(Duration.ofSeconds(15))
        .untilAsserted(
            () -> assertThat(provider(name).jsonPath().getString("status")).isEqualTo("ok"));
    String list = given().header("Authorization", ADMIN).get("/admin/providers").asString();
    assertThat(list).contains(name).doesNotContain(SECRET);
    assertThat(provider(name).asString()).doesNotContain(SECRET);

    // At rest: AES-GCM output (12-byte nonce + ciphertext + 16-byte tag), not the plaintext.
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "select api_key_encrypted, base_url, status from managed_provider where name = ?")) {
      ps.setString(1, name);
      try (ResultSet rs = ps.executeQuery()) {
        assertThat(rs.next()).isTrue();
        byte[] stored = rs.getBytes(1);
        assertThat(stored).hasSize(12 + SECRET.length() + 16);
        assertThat(new String(stored, StandardCharsets.ISO_8859_1)).doesNotContain("sk-acme");
      }
    }

    RecordedCalls records = new RecordedCalls(broker);
    records.prepare();
    // Calls as "<name>/<model>" reach it with the decrypted key, and are recorded under its name.
    UUID workflowId = UUID.randomUUID();
    Response chat =
        given()
            .header("Authorization", "Bearer atelier-local-key")
            .header("X-Atelier-Workflow-Id", workflowId.toString())
            .contentType(ContentType.JSON)
            .body(
                "{\"model\":\""
                    + name
                    + "/llama-3.1-8b\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")
            .post("/v1/chat/completions");
    assertThat(chat.statusCode()).isEqualTo(200);
    assertThat(chat.jsonPath().getString("choices[0].message.content"))
        .isEqualTo("Hello from acme");
    upstream.verify(
        postRequestedFor(urlEqualTo("/v1/chat/completions"))
            .withHeader("Authorization", equalTo("Bearer " + SECRET)));
    LlmCallRecorded record =
        await()
            .atMost(Duration.ofSeconds(15))
            .until(() -> records.forWorkflow(workflowId), l -> l.size() == 1)
            .get(0);
    assertThat(record.provider()).isEqualTo(name);
    assertThat(record.inputTokens()).isEqualTo(12);
    assertThat(record.outputTokens()).isEqualTo(4);
    // Nobody priced this provider's model: unknown, never 0.
    assertThat(record.costUsd()).isNull();

    // Embeddings pass through the same provider, metered from its usage.
    UUID embedWorkflow = UUID.randomUUID();
    Response embedded =
        given()
            .header("Authorization", "Bearer atelier-local-key")
            .header("X-Atelier-Workflow-Id", embedWorkflow.toString())
            .contentType(ContentType.JSON)
            .body("{\"model\":\"" + name + "/nomic-embed\",\"input\":\"hello\"}")
            .post("/v1/embeddings");
    assertThat(embedded.statusCode()).isEqualTo(200);
    assertThat(embedded.jsonPath().getList("data[0].embedding", Float.class))
        .containsExactly(0.6f, 0.8f);
    LlmCallRecorded embedRecord =
        await()
            .atMost(Duration.ofSeconds(15))
            .until(() -> records.forWorkflow(embedWorkflow), l -> l.size() == 1)
            .get(0);
    assertThat(embedRecord.operation()).isEqualTo("embeddings");
    assertThat(embedRecord.provider()).isEqualTo(name);
    assertThat(embedRecord.inputTokens()).isEqualTo(7);
    assertThat(embedRecord.costUsd()).isNull();

    // A wrong key fails validation, with the reason and without the key.
    Response changed =
        given()
            .header("Authorization", ADMIN)
            .contentType(ContentType.JSON)
            .body("{\"apiKey\":\"sk-wrong-key-42\"}")
            .put("/admin/providers/" + name);
    assertThat(changed.statusCode()).isEqualTo(200);
    assertThat(changed.jsonPath().getString("status")).isEqualTo("pending");
    await()
        .atMost(Duration.ofSeconds(15))
        .untilAsserted(
            () -> {
              Response p = provider(name);
              assertThat(p.jsonPath().getString("status")).isEqualTo("failed");
              assertThat(p.jsonPath().getString("statusReason")).contains("HTTP 401");
              assertThat(p.asString()).doesNotContain("sk-wrong-key-42");
            });

    given()
        .header("Authorization", ADMIN)
        .delete("/admin/providers/" + name)
        .then()
        .statusCode(204);
    provider(name).then().statusCode(404).contentType("application/problem+json");
  }

  @Test
  void aKeyAHeaderCannotCarryIsRefusedBeforeAnythingIsStoredAndNeverLogged() {
    String name = "nl-" + UUID.randomUUID().toString().substring(0, 8);
    String kept = "kept-" + UUID.randomUUID().toString().substring(0, 8);
    given()
        .header("Authorization", ADMIN)
        .contentType(ContentType.JSON)
        .body(create(kept, upstream.baseUrl() + "/v1", SECRET))
        .post("/admin/providers")
        .then()
        .statusCode(201);
    long revision = provider(kept).jsonPath().getLong("revision");
    try (LogCapture logs = new LogCapture()) {
      org.jboss.logging.Logger.getLogger(ManagedProviderTest.class).info("log-capture-works");
      // JSON escapes: a trailing newline (a key pasted from a file), CRLF, a space, a NUL.
      for (String key :
          new String[] {"sk-abc\\n", "sk-abc\\r\\n", "sk-abc def", "sk-abc\\u0000x"}) {
        Response refused =
            given()
                .header("Authorization", ADMIN)
                .contentType(ContentType.JSON)
                .body(create(name, upstream.baseUrl() + "/v1", key))
                .post("/admin/providers");
        assertThat(refused.statusCode()).as(key).isEqualTo(400);
        assertThat(refused.contentType()).startsWith("application/problem+json");
        assertThat(refused.asString()).doesNotContain("sk-abc");
        Response changed =
            given()
                .header("Authorization", ADMIN)
                .contentType(ContentType.JSON)
                .body("{\"apiKey\":\"" + key + "\"}")
                .put("/admin/providers/" + kept);
        assertThat(changed.statusCode()).as(key).isEqualTo(400);
        assertThat(changed.asString()).doesNotContain("sk-abc");
      }
      provider(name).then().statusCode(404).contentType("application/problem+json");
      assertThat(provider(kept).jsonPath().getLong("revision")).isEqualTo(revision);
      assertThat(logs.lines())
          .anyMatch(l -> l.contains("log-capture-works"))
          .noneMatch(l -> l.contains("sk-abc"));
    } finally {
      given().header("Authorization", ADMIN).delete("/admin/providers/" + kept);
    }
  }

  @Test
  void badProvidersAreRefusedAsProblemJsonAndNothingIsStored() {
    given().get("/admin/providers").then().statusCode(401).contentType("application/problem+json");
    String name = "bad-" + UUID.randomUUID().toString().substring(0, 8);
    for (String body :
        new String[] {
          create(name, "ftp://example.com", SECRET),
          create(name, "not a url", SECRET),
          "{\"baseUrl\":\"http://example.com/v1\"}",
          create("Bad Name!", "http://example.com/v1", SECRET),
          create("openai", "http://example.com/v1", SECRET),
        }) {
      given()
          .header("Authorization", ADMIN)
          .contentType(ContentType.JSON)
          .body(body)
          .post("/admin/providers")
          .then()
          .statusCode(400)
          .contentType("application/problem+json");
    }
    provider(name).then().statusCode(404).contentType("application/problem+json");
    given()
        .header("Authorization", ADMIN)
        .contentType(ContentType.JSON)
        .body("{\"apiKey\":\"x\"}")
        .put("/admin/providers/" + name)
        .then()
        .statusCode(404)
        .contentType("application/problem+json");
  }
}
