package dev.atelier.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.GetResponse;
import dev.atelier.contracts.EventCodec;
import dev.atelier.contracts.Headers;
import dev.atelier.contracts.LlmCallRecorded;
import dev.atelier.contracts.Topology;
import java.io.IOException;
import java.math.BigDecimal;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Two gateway replicas — two processes started from the packaged application, sharing the test
 * database and RabbitMQ virtual host — take 64 concurrent calls against one workflow budget (set by
 * the {@code X-Atelier-Workflow-Budget-Usd} header of each call), half each. The reservations of
 * both serialise on the budget's spend row in PostgreSQL, so the budget is overshot by at most one
 * call's reservation (in fact not at all: a call never costs more than its reservation), every
 * refused call is a 402 {@code budget_exceeded}, and each call is recorded exactly once.
 */
class BudgetTwoReplicasIT {

  static final String ADMIN = "Bearer atelier-local-admin-key";
  static final String KEY = "Bearer atelier-local-key";
  static final BudgetedChat CHAT =
      new BudgetedChat("Draft the acceptance criteria of the parcel tracking feature.", 5);
  static final int CALLS = 64;
  static final String VHOST = "atelier-test-gateway";
  static final String TEST_QUEUE = "atelier.test.gateway.two-replicas.llm-calls";

  static final ObjectMapper MAPPER = new ObjectMapper();
  static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  static final List<GatewayProcess> REPLICAS = new ArrayList<>();

  static Connection rabbit;

  @BeforeAll
  static void startTwoReplicas() throws Exception {
    ConnectionFactory factory = new ConnectionFactory();
    factory.setHost("127.0.0.1");
    factory.setVirtualHost(VHOST);
    rabbit = factory.newConnection("budget-two-replicas-it");
    try (Channel ch = rabbit.createChannel()) {
      ch.exchangeDeclare(Topology.LLM_CALLS_EXCHANGE, "topic", true);
      ch.queueDeclare(TEST_QUEUE, true, false, false, Map.of("x-queue-type", "quorum"));
      ch.queueBind(TEST_QUEUE, Topology.LLM_CALLS_EXCHANGE, Topology.LLM_CALL);
      ch.queuePurge(TEST_QUEUE);
    }
    // Never leave a gateway behind, even when the test JVM is stopped early.
    Runtime.getRuntime()
        .addShutdownHook(new Thread(() -> REPLICAS.forEach(r -> r.process().destroyForcibly())));
    // The first one migrates the database; the second starts against the migrated schema.
    REPLICAS.add(start("a").awaitReady());
    REPLICAS.add(start("b").awaitReady());
  }

  @AfterAll
  static void stop() throws Exception {
    for (GatewayProcess r : REPLICAS) {
      r.process().destroy();
    }
    for (GatewayProcess r : REPLICAS) {
      if (!r.process().waitFor(20, TimeUnit.SECONDS)) {
        r.process().destroyForcibly();
      }
    }
    if (rabbit != null) {
      try (Channel ch = rabbit.createChannel()) {
        ch.queueDelete(TEST_QUEUE);
      }
      rabbit.close();
    }
  }

  private static GatewayProcess start(String name) throws IOException {
    return GatewayProcess.start(
        name,
        "budget-two-replicas-" + name,
        List.of(
            "-Dgateway.simulated.latency.mode=fixed",
            // Calls stay in flight long enough for the two replicas' reservations to overlap.
            "-Dgateway.simulated.latency.fixed=150ms",
            "-Dgateway.budgets.refresh-interval=1s",
            // One record journal per process (a shared directory is refused).
            "-Dgateway.records.journal.dir=target/record-journal-" + name));
  }

  private static JsonNode budget(GatewayProcess r, UUID workflowId) throws Exception {
    HttpResponse<String> res =
        HTTP.send(
            HttpRequest.newBuilder(r.base().resolve("/admin/budgets/workflow/" + workflowId))
                .header("Authorization", ADMIN)
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(res.statusCode()).as(res.body()).isEqualTo(200);
    return MAPPER.readTree(res.body());
  }

  @Test
  void sixtyFourConcurrentCallsOnTwoReplicasOvershootByAtMostOneReservation() throws Exception {
    UUID workflowId = UUID.randomUUID();
    BigDecimal wc = CHAT.worstCase();
    BigDecimal limit = wc.multiply(BigDecimal.TEN);
    GatewayProcess a = REPLICAS.get(0);
    GatewayProcess b = REPLICAS.get(1);
    // One call each first (no budget), so neither replica is still warming up during the burst.
    for (GatewayProcess r : REPLICAS) {
      HttpResponse<String> warm =
          HTTP.send(
              HttpRequest.newBuilder(r.base().resolve("/v1/chat/completions"))
                  .header("Authorization", KEY)
                  .header("Content-Type", "application/json")
                  .POST(HttpRequest.BodyPublishers.ofString(CHAT.body()))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(warm.statusCode()).as(warm.body()).isEqualTo(200);
    }
    List<CompletableFuture<HttpResponse<String>>> sent = new ArrayList<>();
    for (int i = 0; i < CALLS; i++) {
      GatewayProcess r = i % 2 == 0 ? a : b;
      sent.add(
          HTTP.sendAsync(
              HttpRequest.newBuilder(r.base().resolve("/v1/chat/completions"))
                  .header("Authorization", KEY)
                  .header("Content-Type", "application/json")
                  .header(Headers.WORKFLOW_ID, workflowId.toString())
                  // As the worker sends it: whichever replica sees it first creates the budget, and
                  // every replica enforces it from the first call (no cache to wait for).
                  .header(Headers.WORKFLOW_BUDGET_USD, limit.toPlainString())
                  .timeout(Duration.ofSeconds(60))
                  .POST(HttpRequest.BodyPublishers.ofString(CHAT.body()))
                  .build(),
              HttpResponse.BodyHandlers.ofString()));
    }
    int[] ok = new int[2];
    int[] rejected = new int[2];
    for (int i = 0; i < CALLS; i++) {
      HttpResponse<String> res = sent.get(i).join();
      if (res.statusCode() == 200) {
        ok[i % 2]++;
      } else {
        assertThat(res.statusCode()).as(res.body()).isEqualTo(402);
        JsonNode error = MAPPER.readTree(res.body()).path("error");
        assertThat(error.path("code").asText()).isEqualTo("budget_exceeded");
        assertThat(error.path("type").asText()).isEqualTo("insufficient_quota");
        assertThat(error.path("message").asText())
            .contains("workflow budget '" + workflowId + "' (total)");
        rejected[i % 2]++;
      }
    }
    int admitted = ok[0] + ok[1];
    // Ten worst cases fit under the limit: refusals start only once ten calls were admitted.
    assertThat(admitted).isGreaterThanOrEqualTo(10);
    assertThat(rejected[0] + rejected[1]).isPositive();

    // Once every call is settled (on either replica), nothing is reserved, and what was spent is
    // within one reservation of the limit.
    JsonNode settled =
        await()
            .atMost(Duration.ofSeconds(20))
            .until(
                () -> budget(b, workflowId),
                n -> n.path("reservedUsd").decimalValue().signum() == 0);
    assertThat(settled.path("hard").asBoolean()).isTrue();
    assertThat(settled.path("limitUsd").decimalValue()).isEqualByComparingTo(limit);
    BigDecimal spent = settled.path("spentUsd").decimalValue();
    assertThat(spent).isLessThanOrEqualTo(limit.add(wc));
    assertThat(spent).isLessThanOrEqualTo(limit);

    // Each call recorded once; the spend is exactly the recorded costs of the admitted calls.
    List<LlmCallRecorded> records = new ArrayList<>();
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> {
              try (Channel ch = rabbit.createChannel()) {
                GetResponse g;
                while ((g = ch.basicGet(TEST_QUEUE, true)) != null) {
                  LlmCallRecorded r = EventCodec.read(g.getBody(), LlmCallRecorded.class);
                  if (workflowId.equals(r.workflowId())) {
                    records.add(r);
                  }
                }
              }
              assertThat(records).hasSize(CALLS);
            });
    assertThat(records.stream().map(LlmCallRecorded::eventId).distinct()).hasSize(CALLS);
    assertThat(records.stream().filter(r -> "budget_exceeded".equals(r.errorCode())))
        .hasSize(CALLS - admitted);
    BigDecimal recorded =
        records.stream()
            .filter(r -> LlmCallRecorded.STATUS_OK.equals(r.status()))
            .map(LlmCallRecorded::costUsd)
            .map(Objects::requireNonNull)
            .reduce(BigDecimal.ZERO, BigDecimal::add);
    assertThat(spent).isEqualByComparingTo(recorded);
    System.out.printf(
        "two replicas: %d admitted (a %d, b %d), %d refused; spent %s of limit %s"
            + " (one reservation %s)%n",
        admitted,
        ok[0],
        ok[1],
        CALLS - admitted,
        spent.toPlainString(),
        limit.toPlainString(),
        wc.toPlainString());
  }
}
