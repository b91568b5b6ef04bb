package dev.atelier.gateway;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.tomakehurst.wiremock.WireMockServer;
import dev.atelier.contracts.Headers;
import dev.atelier.contracts.LlmCallRecorded;
import dev.atelier.gateway.idempotency.IdempotentCalls;
import dev.atelier.gateway.messaging.HeldKeys;
import dev.atelier.gateway.messaging.LeftoverKeys;
import dev.atelier.kit.amqp.RabbitBroker;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import jakarta.enterprise.event.Event;
import jakarta.inject.Inject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Calls with an {@code Idempotency-Key}: a repeat of a call with the same key and body is answered
 * with the first call's answer, the provider called and the call recorded once; a repeat while the
 * call runs is 409, one with another body 422; a failed call frees its key; a running call's claim
 * is renewed, and one whose replica died (no longer renewed) is taken over; keys are per team.
 */
@QuarkusTest
@TestProfile(OpenAiUpstreamProfile.class)
class IdempotencyTest {

  static final String KEY = "Bearer test-key-service";
  static final String PATH = "/v1/chat/completions";

  @Inject RabbitBroker broker;
  @Inject ObjectMapper mapper;
  @Inject DataSource dataSource;
  @Inject IdempotentCalls idempotent;
  @Inject HeldKeys heldKeys;
  @Inject MeterRegistry registry;
  @Inject Event<LeftoverKeys> leftoverKeys;

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

  private static String marker() {
    return "marker-" + UUID.randomUUID();
  }

  private String chatBody(String marker) {
    ObjectNode body = mapper.createObjectNode();
    body.put("model", "gpt-4.1-nano");
    body.putArray("messages").addObject().put("role", "user").put("content", marker);
    return body.toString();
  }

  private void answer(String path, String marker, int status, String body, int delayMs) {
    upstream.stubFor(
        post(urlEqualTo(path))
            .withRequestBody(containing(marker))
            .willReturn(
                aResponse()
                    .withStatus(status)
                    .withHeader("Content-Type", "application/json")
                    .withBody(body)
                    .withFixedDelay(delayMs)));
  }

  private String completion(String marker) {
    return "{\"id\":\"chatcmpl-"
        + marker
        + "\",\"object\":\"chat.completion\",\"model\":\"gpt-4.1-nano\",\"choices\":[{\"index\":0,"
        + "\"message\":{\"role\":\"assistant\",\"content\":\"Done: "
        + marker
        + "\"},\"finish_reason\":\"stop\"}],"
        + "\"usage\":{\"prompt_tokens\":30,\"completion_tokens\":7,\"total_tokens\":37}}";
  }

  private Response chat(String team, String key, UUID workflowId, String body) {
    var request =
        given()
            .header("Authorization", KEY)
            .header(Headers.TEAM, team)
            .header("X-Atelier-Workflow-Id", workflowId.toString())
            .contentType(ContentType.JSON)
            .body(body);
    if (key != null) {
      request.header(Headers.IDEMPOTENCY_KEY, key);
    }
    return request.post(PATH);
  }

  /** A keyed call answered later. */
  private CompletableFuture<HttpResponse<String>> chatAsync(
      String team, String key, UUID workflowId, String body) {
    HttpRequest request =
        HttpRequest.newBuilder(chatUrl)
            .header("Authorization", KEY)
            .header(Headers.TEAM, team)
            .header("X-Atelier-Workflow-Id", workflowId.toString())
            .header(Headers.IDEMPOTENCY_KEY, key)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build();
    return HttpClient.newHttpClient().sendAsync(request, HttpResponse.BodyHandlers.ofString());
  }

  private int providerCalls(String path, String marker) {
    return upstream
        .findAll(postRequestedFor(urlEqualTo(path)).withRequestBody(containing(marker)))
        .size();
  }

  /** The records of the workflow once none has arrived for a while. */
  private List<LlmCallRecorded> settledRecords(UUID workflowId, int atLeast) throws Exception {
    await()
        .atMost(Duration.ofSeconds(15))
        .untilAsserted(
            () -> assertThat(records.forWorkflow(workflowId)).hasSizeGreaterThan(atLeast - 1));
    await()
        .during(Duration.ofMillis(700))
        .atMost(Duration.ofSeconds(5))
        .untilAsserted(() -> assertThat(records.forWorkflow(workflowId)).hasSize(atLeast));
    return records.forWorkflow(workflowId);
  }

  @Test
  void aRepeatGetsTheFirstAnswerWithoutCallingOrRecordingAgain() throws Exception {
    String marker = marker();
    answer(PATH, marker, 200, completion(marker), 0);
    UUID workflowId = UUID.randomUUID();
    String key = "step-" + UUID.randomUUID() + "/1/0";
    String body = chatBody(marker);

    Response first = chat("team-a", key, workflowId, body);
    assertThat(first.statusCode()).isEqualTo(200);
    assertThat(first.header(OpenAiRoutesHeaders.REPLAYED)).isNull();
    // The answer is kept just after it is returned: a repeat meanwhile is told to come back.
    Response repeat =
        await()
            .atMost(Duration.ofSeconds(10))
            .until(() -> chat("team-a", key, workflowId, body), r -> r.statusCode() != 409);

    assertThat(repeat.statusCode()).isEqualTo(200);
    assertThat(repeat.asByteArray()).isEqualTo(first.asByteArray());
    assertThat(repeat.header(OpenAiRoutesHeaders.REPLAYED)).isEqualTo("true");
    assertThat(repeat.header(OpenAiRoutesHeaders.CALL_ID))
        .isEqualTo(first.header(OpenAiRoutesHeaders.CALL_ID));
    assertThat(providerCalls(PATH, marker)).isEqualTo(1);
    List<LlmCallRecorded> recorded = settledRecords(workflowId, 1);
    assertThat(recorded.get(0).eventId().toString())
        .isEqualTo(first.header(OpenAiRoutesHeaders.CALL_ID));
  }

  @Test
  void aBudgetedCallIsChargedOnceAndItsRepeatReservesNothing() throws Exception {
    KeyedCall call = answeredAfter(0);
    var budgeted =
        given()
            .header("Authorization", KEY)
            .header(Headers.TEAM, "team-a")
            .header("X-Atelier-Workflow-Id", call.workflowId().toString())
            .header("X-Atelier-Workflow-Budget-Usd", "5")
            .header(Headers.IDEMPOTENCY_KEY, call.key())
            .contentType(ContentType.JSON)
            .body(call.body());

    Response first = budgeted.post(PATH);
    Response repeat = awaitNot409(() -> budgeted.post(PATH));

    assertThat(first.statusCode()).isEqualTo(200);
    assertThat(repeat.statusCode()).isEqualTo(200);
    assertThat(repeat.header(OpenAiRoutesHeaders.REPLAYED)).isEqualTo("true");
    assertThat(providerCalls(PATH, call.marker())).isEqualTo(1);
    LlmCallRecorded record = settledRecords(call.workflowId(), 1).get(0);
    assertThat(record.costUsd()).isPositive();
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () -> {
              var budget =
                  mapper.readTree(
                      given()
                          .header("Authorization", "Bearer atelier-local-admin-key")
                          .get("/admin/budgets/workflow/" + call.workflowId())
                          .asString());
              assertThat(budget.path("spentUsd").decimalValue())
                  .isEqualByComparingTo(record.costUsd());
              assertThat(budget.path("reservedUsd").decimalValue()).isZero();
            });
  }

  @Test
  void keysBelongToTheirTeam() throws Exception {
    String marker = marker();
    answer(PATH, marker, 200, completion(marker), 0);
    UUID workflowId = UUID.randomUUID();
    String key = "shared-" + UUID.randomUUID();
    String body = chatBody(marker);

    assertThat(chat("team-a", key, workflowId, body).statusCode()).isEqualTo(200);
    Response other = chat("team-b", key, workflowId, body);

    assertThat(other.statusCode()).isEqualTo(200);
    assertThat(other.header(OpenAiRoutesHeaders.REPLAYED)).isNull();
    assertThat(providerCalls(PATH, marker)).isEqualTo(2);
    settledRecords(workflowId, 2);
  }

  @Test
  void aKeyUsedForAnotherBodyIsRefusedAndCallsNothing() throws Exception {
    String marker = marker();
    answer(PATH, marker, 200, completion(marker), 0);
    UUID workflowId = UUID.randomUUID();
    String key = "k-" + UUID.randomUUID();

    assertThat(chat("team-a", key, workflowId, chatBody(marker)).statusCode()).isEqualTo(200);
    Response other = chat("team-a", key, workflowId, chatBody(marker + " and more"));

    assertThat(other.statusCode()).isEqualTo(422);
    assertThat(other.jsonPath().getString("error.code")).isEqualTo("idempotency_key_reused");
    assertThat(providerCalls(PATH, marker)).isEqualTo(1);
    settledRecords(workflowId, 1);
  }

  /** A keyed call at the provider, answered 5 s after it got there. */
  /** A chat call of team-a under a key of its own, its provider answer stubbed. */
  private record KeyedCall(String marker, UUID workflowId, String key, String body) {}

  /** A keyed call whose provider answers 200 after {@code delayMs}. */
  private KeyedCall answeredAfter(int delayMs) {
    String marker = marker();
    answer(PATH, marker, 200, completion(marker), delayMs);
    return new KeyedCall(marker, UUID.randomUUID(), "k-" + UUID.randomUUID(), chatBody(marker));
  }

  private record RunningCall(KeyedCall call, CompletableFuture<HttpResponse<String>> first) {}

  private RunningCall runningCall() {
    // Long enough that what a test does meanwhile happens while the call runs, on a slow machine
    // too.
    KeyedCall call = answeredAfter(5_000);
    CompletableFuture<HttpResponse<String>> first =
        chatAsync("team-a", call.key(), call.workflowId(), call.body());
    await().atMost(Duration.ofSeconds(10)).until(() -> providerCalls(PATH, call.marker()) == 1);
    return new RunningCall(call, first);
  }

  /** The running call's request again, same key and body. */
  private Response repeat(RunningCall running) {
    return chat("team-a", running.call().key(), running.call().workflowId(), running.call().body());
  }

  @Test
  void aRepeatWhileTheCallRunsIs409AndThenGetsItsAnswer() throws Exception {
    RunningCall running = runningCall();

    Response during = repeat(running);

    assertThat(during.statusCode()).isEqualTo(409);
    assertThat(during.jsonPath().getString("error.code")).isEqualTo("idempotency_key_in_use");
    assertThat(during.header("Retry-After")).isEqualTo("1");
    assertThat(running.first().get().statusCode()).isEqualTo(200);
    Response after = awaitNot409(() -> repeat(running));
    assertThat(after.statusCode()).isEqualTo(200);
    assertThat(after.asString()).isEqualTo(running.first().get().body());
    assertThat(providerCalls(PATH, running.call().marker())).isEqualTo(1);
    settledRecords(running.call().workflowId(), 1);
  }

  @Test
  void aFailedCallFreesItsKey() throws Exception {
    String marker = marker();
    answer(
        PATH,
        marker,
        400,
        "{\"error\":{\"message\":\"bad tool_choice\",\"type\":\"invalid_request_error\","
            + "\"param\":\"tool_choice\",\"code\":\"invalid_value\"}}",
        0);
    UUID workflowId = UUID.randomUUID();
    String key = "k-" + UUID.randomUUID();
    String body = chatBody(marker);

    assertThat(chat("team-a", key, workflowId, body).statusCode()).isEqualTo(400);
    answer(PATH, marker, 200, completion(marker), 0);
    Response repeat =
        await()
            .atMost(Duration.ofSeconds(10))
            .until(() -> chat("team-a", key, workflowId, body), r -> r.statusCode() != 409);

    assertThat(repeat.statusCode()).isEqualTo(200);
    assertThat(repeat.header(OpenAiRoutesHeaders.REPLAYED)).isNull();
    assertThat(providerCalls(PATH, marker)).isEqualTo(2);
  }

  @Test
  void aClaimNotRenewedForTheTakeoverTimeIsTakenOver() throws Exception {
    KeyedCall call = answeredAfter(0);
    // A replica died 5 minutes into this call, its last renewal 31 s ago (takeover: 30 s).
    insertClaim(
        "team-a", call.key(), call.body(), Duration.ofMinutes(5), Duration.ofSeconds(31), null);
    // One renewed 5 s ago, and one 10 s old never renewed yet: both still running.
    String renewed = "k-" + UUID.randomUUID();
    insertClaim("team-a", renewed, call.body(), Duration.ofMinutes(5), Duration.ofSeconds(5), null);
    String young = "k-" + UUID.randomUUID();
    insertClaim("team-a", young, call.body(), Duration.ofSeconds(10), null, null);

    Response taken = chat("team-a", call.key(), call.workflowId(), call.body());
    Response stillRunning = chat("team-a", renewed, call.workflowId(), call.body());
    Response youngRunning = chat("team-a", young, call.workflowId(), call.body());

    assertThat(taken.statusCode()).isEqualTo(200);
    assertThat(stillRunning.statusCode()).isEqualTo(409);
    assertThat(youngRunning.statusCode()).isEqualTo(409);
    assertThat(providerCalls(PATH, call.marker())).isEqualTo(1);
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () -> assertThat(storedAnswer("team-a", call.key())).isEqualTo(taken.asByteArray()));
  }

  @Test
  void theKeysADeadProcessHeldAreLetGoAtTheRestartAndNothingElse() throws Exception {
    KeyedCall call = answeredAfter(0);
    // The dead process renewed its claim a second ago: until it is let go, a repeat gets 409.
    UUID claim = insertClaim("team-a", call.key(), call.body(), Duration.ofSeconds(1), null);
    assertThat(chat("team-a", call.key(), call.workflowId(), call.body()).statusCode())
        .isEqualTo(409);
    // What it answered stays for repeats; a key it held that another replica took over since stays
    // that replica's.
    String answered = "k-" + UUID.randomUUID();
    byte[] answer = completion(call.marker()).getBytes(StandardCharsets.UTF_8);
    UUID answeredClaim = insertClaim("team-a", answered, call.body(), null, answer);
    String takenOver = "k-" + UUID.randomUUID();
    insertClaim("team-a", takenOver, call.body(), Duration.ofSeconds(1), null);

    leftoverKeys.fire(
        new LeftoverKeys(
            List.of(
                IdempotentCalls.heldMark("team-a", call.key(), claim),
                IdempotentCalls.heldMark("team-a", answered, answeredClaim),
                IdempotentCalls.heldMark("team-a", takenOver, UUID.randomUUID()),
                "not a mark".getBytes(StandardCharsets.UTF_8))));

    Response remade = chat("team-a", call.key(), call.workflowId(), call.body());
    assertThat(remade.statusCode()).as(remade.asString()).isEqualTo(200);
    assertThat(remade.header(OpenAiRoutesHeaders.REPLAYED)).isNull();
    Response replayed = chat("team-a", answered, call.workflowId(), call.body());
    assertThat(replayed.header(OpenAiRoutesHeaders.REPLAYED)).isEqualTo("true");
    assertThat(replayed.asByteArray()).isEqualTo(answer);
    assertThat(chat("team-a", takenOver, call.workflowId(), call.body()).statusCode())
        .isEqualTo(409);
    assertThat(providerCalls(PATH, call.marker())).isEqualTo(1);
  }

  @Test
  void theKeysADeadProcessHeldAreLetGoOnceTheDatabaseAnswersAgain() throws Exception {
    String key = "k-" + UUID.randomUUID();
    UUID claim = insertClaim("team-a", key, "{}", Duration.ofSeconds(1), null);

    // The database cannot be reached as the restarted gateway lets go (the table gone for a
    // moment stands for it): the release, made as the event is fired, fails, and is tried again
    // until it can be made.
    sql("alter table idempotent_call rename to idempotent_call_away");
    try {
      leftoverKeys.fire(new LeftoverKeys(List.of(IdempotentCalls.heldMark("team-a", key, claim))));
      try (Connection c = dataSource.getConnection();
          PreparedStatement ps =
              c.prepareStatement("select count(*) from idempotent_call_away where idem_key = ?")) {
        ps.setString(1, key);
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          assertThat(rs.getLong(1)).as("the claim, after the first try").isEqualTo(1);
        }
      }
    } finally {
      sql("alter table idempotent_call_away rename to idempotent_call");
    }

    await().atMost(Duration.ofSeconds(10)).until(() -> renewedAgo("team-a", key) == null);
  }

  @Test
  void aRunningCallRenewsItsClaimAndKeepsItsKeyPastTheTakeoverTime() throws Exception {
    RunningCall running = runningCall();
    // As if the call had run for an hour and not been renewed for a minute: past the retention and
    // the takeover time. The replica making it renews its claim.
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "update idempotent_call set started_at = now() - interval '1 hour',"
                    + " renewed_at = now() - interval '1 minute'"
                    + " where team = 'team-a' and idem_key = ?")) {
      ps.setString(1, running.call().key());
      assertThat(ps.executeUpdate()).isEqualTo(1);
    }

    assertThat(idempotent.renewRunning()).isGreaterThanOrEqualTo(1);
    assertThat(renewedAgo("team-a", running.call().key())).isLessThan(Duration.ofSeconds(2));
    idempotent.deleteExpired();
    Response during = repeat(running);

    assertThat(during.statusCode()).as(during.asString()).isEqualTo(409);
    assertThat(running.first().get().statusCode()).isEqualTo(200);
    Response after = awaitNot409(() -> repeat(running));
    assertThat(after.header(OpenAiRoutesHeaders.REPLAYED)).isEqualTo("true");
    assertThat(after.asString()).isEqualTo(running.first().get().body());
    assertThat(providerCalls(PATH, running.call().marker())).isEqualTo(1);
  }

  @Test
  void aKeyIsMarkedHeldOnlyWhileItsClaimIsThisProcesssToLetGoOfAtARestart() throws Exception {
    // No call of an earlier test still running: each mark counted below is this test's.
    await().atMost(Duration.ofSeconds(30)).until(() -> heldKeys.held() == 0);
    byte[] sha256 = IdempotentCalls.sha256("{}".getBytes(StandardCharsets.UTF_8));
    byte[] other = IdempotentCalls.sha256("{\"other\":1}".getBytes(StandardCharsets.UTF_8));
    String key = "k-" + UUID.randomUUID();

    var claimed = (IdempotentCalls.Claimed) idempotent.begin("team-a", key, sha256);
    assertThat(heldKeys.held()).isEqualTo(1);
    // A begin that finds the key running, or used for another body, claims nothing: its mark,
    // made before it knew, is cleared.
    assertThat(idempotent.begin("team-a", key, sha256)).isInstanceOf(IdempotentCalls.InUse.class);
    assertThat(idempotent.begin("team-a", key, other))
        .isInstanceOf(IdempotentCalls.KeyReused.class);
    assertThat(heldKeys.held()).isEqualTo(1);
    claimed.answered("{}".getBytes(StandardCharsets.UTF_8), UUID.randomUUID());
    assertThat(heldKeys.held()).isZero();
    assertThat(idempotent.begin("team-a", key, sha256)).isInstanceOf(IdempotentCalls.Replay.class);
    assertThat(heldKeys.held()).isZero();

    // A failed call's key is free again, and no longer held.
    var failing =
        (IdempotentCalls.Claimed) idempotent.begin("team-a", "k-" + UUID.randomUUID(), sha256);
    assertThat(heldKeys.held()).isEqualTo(1);
    failing.failed();
    assertThat(heldKeys.held()).isZero();

    // A claim another replica took over (its claim id changed) is let go at the next renewal.
    String takenOver = "k-" + UUID.randomUUID();
    var lost = (IdempotentCalls.Claimed) idempotent.begin("team-a", takenOver, sha256);
    assertThat(heldKeys.held()).isEqualTo(1);
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "update idempotent_call set claim_id = gen_random_uuid()"
                    + " where team = 'team-a' and idem_key = ?")) {
      ps.setString(1, takenOver);
      assertThat(ps.executeUpdate()).isEqualTo(1);
    }
    idempotent.renewRunning();
    assertThat(heldKeys.held()).isZero();
    lost.failed();
    assertThat(renewedAgo("team-a", takenOver))
        .as("the other replica's claim, which this one's failure does not delete")
        .isNotNull();
  }

  @Test
  void anAnswerAboveTheLimitIsNotKeptAndItsRepeatIsANewCall() throws Exception {
    byte[] sha256 = IdempotentCalls.sha256("{}".getBytes(StandardCharsets.UTF_8));
    String atLimit = "k-" + UUID.randomUUID();
    String above = "k-" + UUID.randomUUID();
    double tooLarge = registry.counter("atelier.llm.idempotent.answers.too.large").count();

    var first = (IdempotentCalls.Claimed) idempotent.begin("team-a", atLimit, sha256);
    first.answered(new byte[1 << 20], UUID.randomUUID());
    var second = (IdempotentCalls.Claimed) idempotent.begin("team-a", above, sha256);
    second.answered(new byte[(1 << 20) + 1], UUID.randomUUID());

    assertThat(storedAnswer("team-a", atLimit)).hasSize(1 << 20);
    assertThat(idempotent.begin("team-a", atLimit, sha256))
        .isInstanceOf(IdempotentCalls.Replay.class);
    assertThat(renewedAgo("team-a", above)).isNull();
    var repeat = idempotent.begin("team-a", above, sha256);
    assertThat(repeat).isInstanceOf(IdempotentCalls.Claimed.class);
    ((IdempotentCalls.Claimed) repeat).failed();
    assertThat(registry.counter("atelier.llm.idempotent.answers.too.large").count())
        .isEqualTo(tooLarge + 1);
  }

  @Test
  void aKeyedCallIsRefused503AndNotMadeWhileItsKeysCannotBeLookedUp() throws Exception {
    KeyedCall call = answeredAfter(0);
    Response refused;
    // The table gone for a moment stands for a database that cannot be reached.
    sql("alter table idempotent_call rename to idempotent_call_away");
    try {
      refused = chat("team-a", call.key(), call.workflowId(), call.body());
    } finally {
      sql("alter table idempotent_call_away rename to idempotent_call");
    }

    assertThat(refused.statusCode()).as(refused.asString()).isEqualTo(503);
    assertThat(refused.jsonPath().getString("error.code")).isEqualTo("idempotency_unavailable");
    assertThat(refused.header("Retry-After")).isEqualTo("1");
    assertThat(providerCalls(PATH, call.marker())).isZero();
    Response later = chat("team-a", call.key(), call.workflowId(), call.body());
    assertThat(later.statusCode()).isEqualTo(200);
    assertThat(later.header(OpenAiRoutesHeaders.REPLAYED)).isNull();
    assertThat(providerCalls(PATH, call.marker())).isEqualTo(1);
    // The refused request left nothing in the ledger: only the later call is recorded.
    settledRecords(call.workflowId(), 1);
  }

  private void sql(String statement) throws Exception {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(statement)) {
      ps.execute();
    }
  }

  @Test
  void streamsAndMalformedKeysAreRefusedBeforeAnythingIsCalled() {
    String marker = marker();
    answer(PATH, marker, 200, completion(marker), 0);
    UUID workflowId = UUID.randomUUID();
    ObjectNode stream = (ObjectNode) readTree(chatBody(marker));
    stream.put("stream", true);

    Response streamed = chat("team-a", "k-" + UUID.randomUUID(), workflowId, stream.toString());
    Response tooLong = chat("team-a", "k".repeat(256), workflowId, chatBody(marker));
    Response spaced = chat("team-a", "two words", workflowId, chatBody(marker));

    assertThat(streamed.statusCode()).isEqualTo(400);
    assertThat(streamed.jsonPath().getString("error.code"))
        .isEqualTo("unsupported_idempotency_key");
    assertThat(streamed.jsonPath().getString("error.param")).isEqualTo("stream");
    assertThat(tooLong.statusCode()).isEqualTo(400);
    assertThat(tooLong.jsonPath().getString("error.code")).isEqualTo("invalid_idempotency_key");
    assertThat(tooLong.jsonPath().getString("error.message")).contains("255");
    assertThat(spaced.statusCode()).isEqualTo(400);
    assertThat(spaced.jsonPath().getString("error.code")).isEqualTo("invalid_idempotency_key");
    assertThat(providerCalls(PATH, marker)).isZero();
  }

  @Test
  void embeddingsAreRepeatedFromTheFirstAnswerToo() throws Exception {
    String marker = marker();
    answer(
        "/v1/embeddings",
        marker,
        200,
        "{\"object\":\"list\",\"model\":\"text-embedding-3-small\",\"data\":[{\"object\":"
            + "\"embedding\",\"index\":0,\"embedding\":[0.6,0.8]}],"
            + "\"usage\":{\"prompt_tokens\":9,\"total_tokens\":9}}",
        0);
    UUID workflowId = UUID.randomUUID();
    String key = "emb-" + UUID.randomUUID();
    String body =
        mapper
            .createObjectNode()
            .put("model", "text-embedding-3-small")
            .put("input", "Parcel tracking " + marker)
            .toString();

    List<Response> answers =
        List.of(embed(key, workflowId, body), awaitNot409(() -> embed(key, workflowId, body)));

    assertThat(answers).allMatch(r -> r.statusCode() == 200);
    assertThat(answers.get(1).asString()).isEqualTo(answers.get(0).asString());
    assertThat(answers.get(1).header(OpenAiRoutesHeaders.REPLAYED)).isEqualTo("true");
    assertThat(providerCalls("/v1/embeddings", marker)).isEqualTo(1);
    settledRecords(workflowId, 1);
  }

  @Test
  void answersAreDeletedAfterTheRetentionTime() throws Exception {
    String old = "k-" + UUID.randomUUID();
    String recent = "k-" + UUID.randomUUID();
    String running = "k-" + UUID.randomUUID();
    String dead = "k-" + UUID.randomUUID();
    insertClaim("team-a", old, "{}", Duration.ofMinutes(61), null, new byte[] {'{', '}'});
    insertClaim("team-a", recent, "{}", Duration.ofMinutes(59), null, new byte[] {'{', '}'});
    // Unanswered for 61 minutes: one still renewed by its replica, one not for 31 s.
    insertClaim("team-a", running, "{}", Duration.ofMinutes(61), Duration.ofSeconds(5), null);
    insertClaim("team-a", dead, "{}", Duration.ofMinutes(61), Duration.ofSeconds(31), null);

    idempotent.deleteExpired();

    assertThat(storedAnswer("team-a", old)).isNull();
    assertThat(storedAnswer("team-a", recent)).isNotNull();
    assertThat(renewedAgo("team-a", running)).isNotNull();
    assertThat(renewedAgo("team-a", dead)).isNull();
  }

  private Response embed(String key, UUID workflowId, String body) {
    return given()
        .header("Authorization", KEY)
        .header(Headers.TEAM, "team-a")
        .header(Headers.IDEMPOTENCY_KEY, key)
        .header("X-Atelier-Workflow-Id", workflowId.toString())
        .contentType(ContentType.JSON)
        .body(body)
        .post("/v1/embeddings");
  }

  private static Response awaitNot409(java.util.concurrent.Callable<Response> call) {
    return await().atMost(Duration.ofSeconds(10)).until(call, r -> r.statusCode() != 409);
  }

  private com.fasterxml.jackson.databind.JsonNode readTree(String json) {
    try {
      return mapper.readTree(json);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** A claim made {@code age} ago, last renewed {@code renewed} ago (null: never). */
  private void insertClaim(
      String team, String key, String body, Duration age, Duration renewed, byte[] answer)
      throws Exception {
    insertClaim(team, key, body, age, renewed, answer, UUID.randomUUID());
  }

  private void insertClaim(
      String team,
      String key,
      String body,
      Duration age,
      Duration renewed,
      byte[] answer,
      UUID claim)
      throws Exception {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "insert into idempotent_call"
                    + " (team, idem_key, request_sha256, claim_id, started_at, renewed_at, answer)"
                    + " values (?, ?, ?, ?, now() - ? * interval '1 second',"
                    + " now() - ? * interval '1 second', ?)")) {
      ps.setString(1, team);
      ps.setString(2, key);
      ps.setBytes(3, IdempotentCalls.sha256(body.getBytes(StandardCharsets.UTF_8)));
      ps.setObject(4, claim);
      ps.setLong(5, age.toSeconds());
      ps.setObject(6, renewed == null ? null : renewed.toSeconds(), java.sql.Types.BIGINT);
      ps.setBytes(7, answer);
      ps.executeUpdate();
    }
  }

  /**
   * A claim made a minute ago, last renewed {@code renewed} ago (null: never), with {@code answer}
   * (null: running); its claim id.
   */
  private UUID insertClaim(String team, String key, String body, Duration renewed, byte[] answer)
      throws Exception {
    UUID claim = UUID.randomUUID();
    insertClaim(team, key, body, Duration.ofMinutes(1), renewed, answer, claim);
    return claim;
  }

  /**
   * How long ago the key's claim was last renewed or, never renewed, made; null when the key is not
   * held.
   */
  private Duration renewedAgo(String team, String key) throws Exception {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "select extract(epoch from now() - coalesce(renewed_at, started_at)) * 1000"
                    + " from idempotent_call where team = ? and idem_key = ?")) {
      ps.setString(1, team);
      ps.setString(2, key);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Duration.ofMillis(rs.getLong(1)) : null;
      }
    }
  }

  private byte[] storedAnswer(String team, String key) throws Exception {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "select answer from idempotent_call where team = ? and idem_key = ?")) {
      ps.setString(1, team);
      ps.setString(2, key);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getBytes(1) : null;
      }
    }
  }

  /** The gateway's response headers these tests read. */
  static final class OpenAiRoutesHeaders {
    static final String REPLAYED = "Idempotent-Replayed";
    static final String CALL_ID = "X-Atelier-Call-Id";
  }
}
