package dev.atelier.orchestrator;

import static dev.atelier.orchestrator.Api.awaitStatus;
import static dev.atelier.orchestrator.Api.submit;
import static dev.atelier.orchestrator.Api.workflow;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.atelier.contracts.LlmCallRecorded;
import dev.atelier.contracts.Topology;
import dev.atelier.orchestrator.TestWorker.Received;
import dev.atelier.orchestrator.service.UsageService;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Usage totals come from the gateway's LLM-call records, each counted exactly once. */
@QuarkusTest
class UsageAccountingTest {

  private static TestWorker worker;

  @Inject UsageService usage;

  @BeforeAll
  static void startWorker() throws Exception {
    worker = TestWorker.shared();
  }

  private static LlmCallRecorded call(
      UUID workflowId, String stepId, long in, long cached, long out, BigDecimal cost) {
    return call(workflowId, stepId, in, cached, out, cost, "default");
  }

  private static LlmCallRecorded call(
      UUID workflowId,
      String stepId,
      long in,
      long cached,
      long out,
      BigDecimal cost,
      String team) {
    return new LlmCallRecorded(
        UUID.randomUUID(),
        LlmCallRecorded.TYPE,
        Instant.now(),
        workflowId,
        stepId,
        "business-analyst",
        null,
        team,
        "chat",
        "simulated",
        "gpt-4o-mini",
        "gpt-4o-mini",
        cost == null ? LlmCallRecorded.STATUS_ERROR : LlmCallRecorded.STATUS_OK,
        null,
        false,
        in,
        cached,
        out,
        0,
        LlmCallRecorded.USAGE_PROVIDER,
        cost,
        cost == null ? null : "test-1",
        Instant.now(),
        42,
        null,
        true,
        null,
        null,
        null);
  }

  private void send(LlmCallRecorded call) {
    worker.publish(Topology.LLM_CALLS_EXCHANGE, Topology.LLM_CALL, call, Map.of());
  }

  @Test
  void llmCallsAccumulateExactlyPerWorkflowAndStep() {
    UUID id = submit("test-single", "Count my tokens");
    Received solo = worker.await(id, "solo", 1);
    String stepId = solo.request().stepId().toString();

    List<LlmCallRecorded> calls =
        List.of(
            call(id, stepId, 1200, 200, 350, new BigDecimal("0.000123456789")),
            call(id, stepId, 800, 0, 120, new BigDecimal("0.00000015")),
            call(id, stepId, 50, 0, 0, null),
            call(id, null, 10, 5, 3, new BigDecimal("1.1")));
    calls.forEach(this::send);
    send(calls.get(0)); // redelivered: must not count twice
    send(call(UUID.randomUUID(), stepId, 999, 0, 999, BigDecimal.TEN)); // someone else's workflow
    // Another team's key naming this workflow at the gateway: not this workflow's spend.
    send(call(id, stepId, 999, 0, 999, BigDecimal.TEN, "intruders"));
    // Records the ledger refuses count here neither (and cannot fail the batch of good ones).
    send(call(id, stepId, -1000, 0, 5, BigDecimal.ONE));
    send(call(id, "step\0key", 7, 0, 7, BigDecimal.ONE));

    BigDecimal cost =
        calls.stream()
            .map(LlmCallRecorded::costUsd)
            .filter(Objects::nonNull)
            .reduce(BigDecimal.ZERO, BigDecimal::add);
    List<LlmCallRecorded> ofStep = calls.stream().filter(c -> stepId.equals(c.stepId())).toList();
    BigDecimal stepCost =
        ofStep.stream()
            .map(LlmCallRecorded::costUsd)
            .filter(Objects::nonNull)
            .reduce(BigDecimal.ZERO, BigDecimal::add);

    JsonPath w =
        await()
            .atMost(Duration.ofSeconds(10))
            .until(() -> workflow(id), x -> x.getLong("usage.calls") == calls.size());
    // Give a wrongly counted duplicate the chance to show up before asserting exact totals.
    await()
        .during(Duration.ofMillis(500))
        .atMost(Duration.ofSeconds(3))
        .until(() -> workflow(id).getLong("usage.calls") == calls.size());
    w = workflow(id);
    assertThat(w.getLong("usage.inputTokens"))
        .isEqualTo(calls.stream().mapToLong(LlmCallRecorded::inputTokens).sum());
    assertThat(w.getLong("usage.cachedInputTokens")).isEqualTo(205);
    assertThat(w.getLong("usage.outputTokens")).isEqualTo(473);
    assertThat(w.getLong("usage.unknownCostCalls")).isEqualTo(1);
    assertThat(new BigDecimal(w.getString("usage.costUsd"))).isEqualByComparingTo(cost);
    // Money goes over the wire as a plain decimal, never in exponent notation.
    assertThat(io.restassured.RestAssured.get("/api/v1/workflows/{id}", id).asString())
        .contains("\"costUsd\":" + cost.toPlainString());

    assertThat(w.getLong("steps[0].usage.calls")).isEqualTo(ofStep.size());
    assertThat(w.getLong("steps[0].usage.inputTokens")).isEqualTo(2050);
    assertThat(new BigDecimal(w.getString("steps[0].usage.costUsd")))
        .isEqualByComparingTo(stepCost);
    assertThat(w.getLong("steps[0].usage.unknownCostCalls")).isEqualTo(1);

    worker.complete(solo, "analysis", null);
    awaitStatus(id, "completed");
  }

  @Test
  void aBatchSumsItsCallsPerWorkflowAndStepAndCountsEachRecordOnce() {
    UUID first = submit("test-single", "Batch one");
    UUID second = submit("test-single", "Batch two");
    Received firstSolo = worker.await(first, "solo", 1);
    String firstStep = firstSolo.request().stepId().toString();
    Received secondSolo = worker.await(second, "solo", 1);

    LlmCallRecorded a = call(first, firstStep, 100, 10, 20, new BigDecimal("0.25"));
    LlmCallRecorded b = call(first, firstStep, 200, 0, 40, null);
    LlmCallRecorded c = call(first, null, 7, 0, 1, new BigDecimal("0.5"));
    // Attributed by step key rather than id, which the gateway also accepts.
    LlmCallRecorded d = call(second, "solo", 30, 3, 3, new BigDecimal("0.125"));
    LlmCallRecorded stranger = call(UUID.randomUUID(), "solo", 999, 0, 999, BigDecimal.ONE);
    LlmCallRecorded unattributed = call(null, null, 999, 0, 999, BigDecimal.ONE);
    // a twice in the batch, stranger and unattributed change nothing.
    usage.recordAll(List.of(a, b, a, c, stranger, d, unattributed));
    // The whole batch again (a redelivery after a crash before the ack): nothing twice.
    usage.recordAll(List.of(a, b, c, d));

    JsonPath one = workflow(first);
    assertThat(one.getLong("usage.calls")).isEqualTo(3);
    assertThat(one.getLong("usage.inputTokens")).isEqualTo(307);
    assertThat(one.getLong("usage.cachedInputTokens")).isEqualTo(10);
    assertThat(one.getLong("usage.outputTokens")).isEqualTo(61);
    assertThat(new BigDecimal(one.getString("usage.costUsd")))
        .isEqualByComparingTo(new BigDecimal("0.75"));
    assertThat(one.getLong("usage.unknownCostCalls")).isEqualTo(1);
    assertThat(one.getLong("steps[0].usage.calls")).isEqualTo(2);
    assertThat(one.getLong("steps[0].usage.inputTokens")).isEqualTo(300);
    assertThat(new BigDecimal(one.getString("steps[0].usage.costUsd")))
        .isEqualByComparingTo(new BigDecimal("0.25"));
    assertThat(one.getLong("steps[0].usage.unknownCostCalls")).isEqualTo(1);
    JsonPath two = workflow(second);
    assertThat(two.getLong("usage.calls")).isEqualTo(1);
    assertThat(two.getLong("steps[0].usage.calls")).isEqualTo(1);
    assertThat(new BigDecimal(two.getString("steps[0].usage.costUsd")))
        .isEqualByComparingTo(new BigDecimal("0.125"));

    worker.complete(firstSolo, "analysis", null);
    worker.complete(secondSolo, "analysis", null);
    awaitStatus(first, "completed");
    awaitStatus(second, "completed");
  }
}
