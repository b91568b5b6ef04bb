package dev.atelier.worker;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static dev.atelier.worker.StepFixtures.completion;
import static dev.atelier.worker.StepFixtures.future;
import static dev.atelier.worker.StepFixtures.step;
import static dev.atelier.worker.StepFixtures.validArchitecture;
import static dev.atelier.worker.StepFixtures.with;
import static dev.atelier.worker.StepFixtures.withTeam;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.MappingBuilder;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import com.github.tomakehurst.wiremock.stubbing.StubMapping;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import dev.atelier.contracts.AtelierEvent;
import dev.atelier.contracts.LlmCallRecorded;
import dev.atelier.contracts.StepCompleted;
import dev.atelier.contracts.StepFailed;
import dev.atelier.contracts.StepRequested;
import dev.atelier.contracts.Topology;
import dev.atelier.kit.amqp.EventPublisher;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Model answers served by a WireMock provider, reached the way production reaches them: worker ->
 * the real llm-gateway-service (a child process) -> the provider. Checks the step's outcome and
 * what the gateway metered for each call: one ledger record per LLM call, with the provider's
 * tokens and the exact cost from the price table.
 */
@QuarkusTest
@WithTestResource(GatewayResource.class)
@WithTestResource(ContextProxyResource.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GatewayPathTest {

  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final String CHAT = "/v1/chat/completions";
  private static final String MODEL = "gpt-4o-mini";
  // gpt-4o-mini: 0.15 USD per 1M input tokens, 0.60 per 1M output; each answer is 120 + 40 tokens.
  private static final BigDecimal COST_PER_CALL = new BigDecimal("0.000042");

  @GatewayResource.Upstream WireMockServer provider;
  @ContextProxyResource.Proxy WireMockServer context;

  @Inject EventPublisher publisher;

  private ResultInbox results;
  private ResultInbox ledger;

  @BeforeAll
  void openInboxes() throws Exception {
    results = new ResultInbox("atelier-test-worker");
    ledger = new ResultInbox("atelier-test-worker", Topology.LLM_CALLS_EXCHANGE, "#");
  }

  @AfterAll
  void closeInboxes() throws Exception {
    results.close();
    ledger.close();
  }

  @Test
  void aValidAnswerCompletesTheStepAndIsMeteredExactly() {
    StepRequested step = newStep(MODEL);
    provider.stubFor(
        toProvider(step).willReturn(completion(validArchitecture().toString(), MODEL)));

    publish(step);

    StepCompleted done = awaitResult(step, StepCompleted.class);
    assertThat(done.outputs()).hasSize(2);
    List<LoggedRequest> calls = providerCalls(step);
    assertThat(calls).hasSize(1);
    // The gateway talks to the provider with the provider's key, which the worker never holds.
    assertThat(calls.get(0).getHeader("Authorization"))
        .isEqualTo("Bearer " + GatewayResource.PROVIDER_KEY);
    assertThat(calls.get(0).getBodyAsString()).contains("\"json_schema\"");

    LlmCallRecorded record = awaitRecords(step, 1).get(0);
    assertThat(record.status()).isEqualTo(LlmCallRecorded.STATUS_OK);
    assertThat(record.workflowId()).isEqualTo(step.workflowId());
    assertThat(record.agent()).isEqualTo("architect");
    assertThat(record.team()).isEqualTo("team-worker-test");
    assertThat(record.requestModel()).isEqualTo(MODEL);
    assertThat(record.inputTokens()).isEqualTo(120);
    assertThat(record.outputTokens()).isEqualTo(40);
    assertThat(record.usageSource()).isEqualTo(LlmCallRecorded.USAGE_PROVIDER);
    assertThat(record.costUsd()).isEqualByComparingTo(COST_PER_CALL);
  }

  @Test
  void anInvalidAnswerIsRepairedAndBothCallsAreMetered() {
    StepRequested step = newStep(MODEL);
    String scenario = "repair-" + step.stepId();
    provider.stubFor(
        toProvider(step)
            .inScenario(scenario)
            .whenScenarioStateIs(Scenario.STARTED)
            .willReturn(completion("{\"summary\": \"no components\"}", MODEL))
            .willSetStateTo("repaired"));
    provider.stubFor(
        toProvider(step)
            .inScenario(scenario)
            .whenScenarioStateIs("repaired")
            .willReturn(completion(validArchitecture().toString(), MODEL)));

    publish(step);

    awaitResult(step, StepCompleted.class);
    assertThat(providerCalls(step)).hasSize(2);
    assertThat(providerCalls(step).get(1).getBodyAsString()).contains("components");
    List<LlmCallRecorded> records = awaitRecords(step, 2);
    assertThat(records).allSatisfy(r -> assertThat(r.status()).isEqualTo("ok"));
    assertThat(
            records.stream().map(LlmCallRecorded::costUsd).reduce(BigDecimal.ZERO, BigDecimal::add))
        .isEqualByComparingTo(COST_PER_CALL.multiply(BigDecimal.valueOf(2)));
  }

  @Test
  void anAnswerThatNeverConformsFailsTheStepAfterTheRepairAttempts() {
    StepRequested step = newStep(MODEL);
    provider.stubFor(toProvider(step).willReturn(completion("not json at all", MODEL)));

    publish(step);

    StepFailed failed = awaitResult(step, StepFailed.class);
    assertThat(failed.errorCode()).isEqualTo("output_invalid");
    assertThat(failed.retryable()).isFalse();
    assertThat(providerCalls(step)).hasSize(3);
    assertThat(awaitRecords(step, 3)).hasSize(3);
  }

  @Test
  void aProviderServerErrorIsRetriedThenReportedRetryable() {
    StepRequested step = newStep("gpt-4o");
    provider.stubFor(
        toProvider(step)
            .willReturn(
                aResponse()
                    .withStatus(500)
                    .withHeader("Content-Type", "application/json")
                    .withBody(
                        "{\"error\":{\"message\":\"upstream exploded\",\"type\":\"server_error\"}}")));

    publish(step);

    StepFailed failed = awaitResult(step, StepFailed.class);
    assertThat(failed.errorCode()).isEqualTo("provider_unavailable");
    assertThat(failed.retryable()).isTrue();
    // Worth retrying, so retried, once: by the gateway (OPENAI_MAX_RETRIES=1). The worker sends
    // the request once (no langchain4j retry on top); the step's later attempts are the
    // orchestrator's decision.
    assertThat(providerCalls(step)).hasSize(2);
    List<LlmCallRecorded> records = awaitRecords(step, 1);
    assertThat(records)
        .allSatisfy(
            r -> {
              assertThat(r.status()).isEqualTo(LlmCallRecorded.STATUS_ERROR);
              assertThat(r.errorCode()).isNotBlank();
              assertThat(r.outputTokens()).isZero();
            });
  }

  @Test
  void aRateLimitIsReportedRetryableAndEveryRefusedCallIsInTheLedger() {
    StepRequested step = newStep("gpt-4.1-mini");
    provider.stubFor(
        toProvider(step)
            .willReturn(
                aResponse()
                    .withStatus(429)
                    .withHeader("Retry-After", "1")
                    .withHeader("Content-Type", "application/json")
                    .withBody(
                        "{\"error\":{\"message\":\"Rate limit reached\",\"type\":\"requests\","
                            + "\"code\":\"rate_limit_exceeded\"}}")));

    publish(step);

    StepFailed failed = awaitResult(step, StepFailed.class);
    assertThat(failed.errorCode()).isEqualTo("provider_unavailable");
    assertThat(failed.retryable()).isTrue();
    assertThat(failed.message()).contains("429");
    // The worker sent the request once; the gateway tried the provider (and retried it once).
    assertThat(providerCalls(step)).hasSize(2);
    // One record for the one call the worker made, with the provider's error code and no cost.
    assertThat(awaitRecords(step, 1))
        .allSatisfy(
            r -> {
              assertThat(r.status()).isEqualTo(LlmCallRecorded.STATUS_ERROR);
              assertThat(r.errorCode()).isEqualTo("rate_limit_exceeded");
              assertThat(r.outputTokens()).isZero();
            });
  }

  @Test
  void aWorkflowBudgetTooSmallForTheCallStopsTheStepBeforeTheProviderIsAsked() {
    StepRequested plain = newStep(MODEL);
    // The gateway reserves the worst case first: the prompt plus max_tokens (2000) of output,
    // some 0.0012 USD for gpt-4o-mini, which a budget of 0.0001 cannot take.
    StepRequested step =
        withTeam(with(plain, plain.agent(), new BigDecimal("0.0001")), "team-worker-test");
    provider.stubFor(
        toProvider(step).willReturn(completion(validArchitecture().toString(), MODEL)));

    publish(step);

    StepFailed failed = awaitResult(step, StepFailed.class);
    assertThat(failed.errorCode()).isEqualTo("budget_exceeded");
    assertThat(failed.retryable()).isFalse();
    assertThat(failed.message()).contains("402");
    // The workflow's own budget refused: its retry needs a raised one.
    assertThat(failed.budgetScope()).isEqualTo("workflow");
    assertThat(providerCalls(step)).isEmpty();
    LlmCallRecorded refused = awaitRecords(step, 1).get(0);
    assertThat(refused.status()).isEqualTo(LlmCallRecorded.STATUS_ERROR);
    assertThat(refused.errorCode()).isEqualTo("budget_exceeded");
    assertThat(refused.team()).isEqualTo("team-worker-test");
  }

  @Test
  void noLogLineOfTheGatewayOrTheWorkerCarriesTheProviderKey() throws Exception {
    aValidAnswerCompletesTheStepAndIsMeteredExactly();
    assertThat(Files.readString(Path.of("target", "llm-gateway-service.log")))
        .isNotEmpty()
        .doesNotContain(GatewayResource.PROVIDER_KEY);
  }

  @Test
  void aRunOfTheSameAttemptAfterItsAnswerWasLostIsAnsweredByTheGatewayUnpaid() {
    StepRequested step = newStep(MODEL);
    provider.stubFor(
        toProvider(step).willReturn(completion(validArchitecture().toString(), MODEL)));
    // The first run's answer is paid for, then its output cannot be stored: the run ends, its
    // answer with it (as it would with a worker killed at that moment).
    StubMapping refused =
        context.stubFor(
            post(urlPathMatching(".*/artifact-writes"))
                .withRequestBody(containing(step.stepId().toString()))
                .atPriority(1)
                .willReturn(
                    aResponse()
                        .withStatus(400)
                        .withHeader("Content-Type", "application/problem+json")
                        .withBody("{\"title\":\"Bad Request\",\"status\":400}")));
    publish(step);
    awaitResult(step, StepFailed.class);
    context.removeStub(refused);

    // The same attempt comes back (a redelivery): it makes the same call, with the same key.
    publish(step);

    List<AtelierEvent> both =
        await().atMost(WAIT).until(() -> results.resultsOf(step.stepId()), r -> r.size() >= 2);
    assertThat(both.get(1)).isInstanceOf(StepCompleted.class);
    assertThat(providerCalls(step)).hasSize(1);
    // Metered once: the repeat was answered from the first call's answer.
    await()
        .during(Duration.ofSeconds(1))
        .atMost(Duration.ofSeconds(5))
        .untilAsserted(() -> assertThat(recordsOf(step)).hasSize(1));
  }

  // --- helpers

  /** A step whose prompt carries a marker of its own, so the provider stub can tell it apart. */
  private static StepRequested newStep(String model) {
    UUID marker = UUID.randomUUID();
    return withTeam(
        step(
            UUID.randomUUID(),
            "design",
            List.of(),
            future(),
            "A shop that sells books (case " + marker + ")",
            model),
        "team-worker-test");
  }

  private static MappingBuilder toProvider(StepRequested step) {
    return post(urlEqualTo(CHAT)).withRequestBody(containing(marker(step)));
  }

  private static String marker(StepRequested step) {
    return step.requirement()
        .substring(step.requirement().indexOf("(case ") + 6, step.requirement().length() - 1);
  }

  private List<LoggedRequest> providerCalls(StepRequested step) {
    return provider.findAll(
        postRequestedFor(urlEqualTo(CHAT)).withRequestBody(containing(marker(step))));
  }

  private void publish(StepRequested step) {
    publisher.publish(Topology.STEPS_EXCHANGE, Topology.stepRoutingKey(step.role()), step);
  }

  private <T extends AtelierEvent> T awaitResult(StepRequested step, Class<T> type) {
    List<AtelierEvent> got =
        await().atMost(WAIT).until(() -> results.resultsOf(step.stepId()), r -> !r.isEmpty());
    assertThat(got.get(0)).isInstanceOf(type);
    return type.cast(got.get(0));
  }

  /** The gateway's records of the step's calls, once {@code count} arrived (and no more). */
  private List<LlmCallRecorded> awaitRecords(StepRequested step, int count) {
    List<LlmCallRecorded> records =
        await().atMost(WAIT).until(() -> recordsOf(step), r -> r.size() >= count);
    assertThat(records).hasSize(count);
    return records;
  }

  private List<LlmCallRecorded> recordsOf(StepRequested step) {
    return ledger.all().stream()
        .filter(e -> e instanceof LlmCallRecorded)
        .map(LlmCallRecorded.class::cast)
        .filter(r -> step.stepId().toString().equals(r.stepId()))
        .toList();
  }
}
