package dev.atelier.worker;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static dev.atelier.worker.StepFixtures.chatCallsOf;
import static dev.atelier.worker.StepFixtures.chatFor;
import static dev.atelier.worker.StepFixtures.completion;
import static dev.atelier.worker.StepFixtures.step;
import static dev.atelier.worker.StepFixtures.validArchitecture;
import static dev.atelier.worker.StepFixtures.with;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import com.github.tomakehurst.wiremock.http.Fault;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import dev.atelier.contracts.AgentSpec;
import dev.atelier.contracts.AtelierEvent;
import dev.atelier.contracts.StepCompleted;
import dev.atelier.contracts.StepRequested;
import dev.atelier.contracts.Topology;
import dev.atelier.kit.amqp.EventPublisher;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The LLM gateway refusing connections (restarting), refusing calls while it drains for shutdown
 * (503 without an error body), still making a call for an earlier run (409), or losing the
 * connection mid-call, when a step runs: the worker asks again with backoff, under the call's
 * Idempotency-Key where the call may have been made, and the step completes once the gateway
 * answers, instead of failing its attempt at once.
 */
@QuarkusTest
@WithTestResource(LateGatewayResource.class)
@WithTestResource(ContextServiceResource.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class GatewayOutageTest {

  @LateGatewayResource.Gateway WireMockServer gateway;

  @Inject EventPublisher publisher;

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
  @Order(1)
  void aStepWaitsForAGatewayThatRefusesConnectionsInsteadOfFailingTheAttempt() {
    StepRequested step =
        step(UUID.randomUUID(), "design", List.of(), Instant.now().plusSeconds(300));

    publisher.publish(Topology.STEPS_EXCHANGE, Topology.stepRoutingKey(step.role()), step);

    // Refused connections for a while: no result (before, a StepFailed came within milliseconds).
    await()
        .during(Duration.ofSeconds(2))
        .atMost(Duration.ofSeconds(3))
        .until(() -> inbox.resultsOf(step.stepId()).isEmpty());
    // Stubbed before it listens (in process), so the first request that gets through is answered.
    gateway.stubFor(chatFor(step).willReturn(completion(validArchitecture().toString())));
    gateway.start();

    List<AtelierEvent> results = inbox.awaitResultsOf(step.stepId());
    assertThat(results).hasSize(1).first().isInstanceOf(StepCompleted.class);
    assertThat(gateway.findAll(chatCallsOf(step))).hasSize(1);
  }

  @Test
  @Order(2)
  void aStepWaitsForAGatewayThatIsDrainingInsteadOfFailingTheAttempt() {
    if (!gateway.isRunning()) {
      gateway.start();
    }
    StepRequested step =
        step(UUID.randomUUID(), "design", List.of(), Instant.now().plusSeconds(300));
    // A gateway stopping answers new calls 503 with no body while its running calls finish: more
    // of them than langchain4j's quick retry absorbs, then the call gets through (the new replica).
    String state = Scenario.STARTED;
    for (int i = 1; i <= 3; i++) {
      gateway.stubFor(
          chatFor(step)
              .inScenario("drain")
              .whenScenarioStateIs(state)
              .willReturn(aResponse().withStatus(503))
              .willSetStateTo("refused " + i));
      state = "refused " + i;
    }
    gateway.stubFor(
        chatFor(step)
            .inScenario("drain")
            .whenScenarioStateIs(state)
            .willReturn(completion(validArchitecture().toString())));

    publisher.publish(Topology.STEPS_EXCHANGE, Topology.stepRoutingKey(step.role()), step);

    List<AtelierEvent> results = inbox.awaitResultsOf(step.stepId());
    assertThat(results).hasSize(1).first().isInstanceOf(StepCompleted.class);
    assertThat(gateway.findAll(chatCallsOf(step))).hasSize(4);
  }

  /**
   * Runs a design step whose first gateway call is answered {@code first}, every later one with a
   * valid output; the step completes after two calls, which are returned.
   */
  private List<LoggedRequest> completesAfter(ResponseDefinitionBuilder first) {
    return completesAfter(
        step(UUID.randomUUID(), "design", List.of(), Instant.now().plusSeconds(300)), first);
  }

  /**
   * Runs {@code step} whose gateway calls are answered {@code before} in turn, every later one with
   * a valid output; the step completes after one call more, and its calls are returned.
   */
  private List<LoggedRequest> completesAfter(
      StepRequested step, ResponseDefinitionBuilder... before) {
    if (!gateway.isRunning()) {
      gateway.start();
    }
    String scenario = "answers of " + step.stepId();
    String state = Scenario.STARTED;
    for (int i = 0; i < before.length; i++) {
      gateway.stubFor(
          chatFor(step)
              .inScenario(scenario)
              .whenScenarioStateIs(state)
              .willReturn(before[i])
              .willSetStateTo("answered " + i));
      state = "answered " + i;
    }
    gateway.stubFor(
        chatFor(step)
            .inScenario(scenario)
            .whenScenarioStateIs(state)
            .willReturn(completion(validArchitecture().toString())));

    publisher.publish(Topology.STEPS_EXCHANGE, Topology.stepRoutingKey(step.role()), step);

    List<AtelierEvent> results = inbox.awaitResultsOf(step.stepId());
    assertThat(results).hasSize(1).first().isInstanceOf(StepCompleted.class);
    List<LoggedRequest> calls = gateway.findAll(chatCallsOf(step));
    assertThat(calls).hasSize(before.length + 1);
    assertThat(calls.get(0).getHeader("Idempotency-Key"))
        .matches(step.stepId() + ":" + step.attempt() + ":[0-9a-f]{32}:1");
    return calls;
  }

  private static ResponseDefinitionBuilder openAiError(int status, String code, String message) {
    return aResponse()
        .withStatus(status)
        .withHeader("Content-Type", "application/json")
        .withBody(
            "{\"error\":{\"message\":\""
                + message
                + "\",\"type\":\"invalid_request_error\",\"param\":null,\"code\":\""
                + code
                + "\"}}");
  }

  @Test
  @Order(3)
  void aStepWaitsWhileTheGatewayStillMakesItsCallForAnEarlierRun() {
    // An earlier run of this attempt died mid-call: the gateway still makes that call, and tells
    // a repeat with the same key to come back (then answers it from that call's answer).
    List<LoggedRequest> calls =
        completesAfter(
            openAiError(
                    409,
                    "idempotency_key_in_use",
                    "A call with this Idempotency-Key is still running")
                .withHeader("Retry-After", "1"));

    // The same call both times, named by the step attempt and what it sends.
    assertThat(calls.get(1).getHeader("Idempotency-Key"))
        .isEqualTo(calls.get(0).getHeader("Idempotency-Key"));
  }

  @Test
  @Order(4)
  void aKeyAnEarlierRunUsedForAnotherRequestIsReplacedByANewOne() {
    // An earlier run (say, of an older worker) sent another body under the same key.
    List<LoggedRequest> calls =
        completesAfter(
            openAiError(
                422,
                "idempotency_key_reused",
                "This Idempotency-Key was used for a call with a different request body"));

    String key = calls.get(0).getHeader("Idempotency-Key");
    assertThat(calls.get(1).getHeader("Idempotency-Key"))
        .startsWith(key + ":")
        .hasSizeGreaterThan(key.length() + 30);
  }

  @Test
  @Order(5)
  void aCallWhoseConnectionIsLostMidCallIsAskedAgainUnderItsKey() {
    // The gateway had the request and died (or a proxy cut the connection) before answering.
    List<LoggedRequest> calls =
        completesAfter(aResponse().withFault(Fault.CONNECTION_RESET_BY_PEER));

    // The same call again, not another model's: the gateway answers it once, whichever way.
    assertThat(calls.get(1).getHeader("Idempotency-Key"))
        .isEqualTo(calls.get(0).getHeader("Idempotency-Key"));
    assertThat(calls.get(1).getBodyAsString()).isEqualTo(calls.get(0).getBodyAsString());
  }

  @Test
  @Order(6)
  void aKeyedCallTheGatewayDoesNotAnswerInTimeIsAskedAgainUnderItsKeyNotOnTheFallbackModel()
      throws Exception {
    StepRequested plain =
        step(UUID.randomUUID(), "design", List.of(), Instant.now().plusSeconds(300));
    AgentSpec a = plain.agent();
    AgentSpec withFallback =
        new AgentSpec(
            a.role(),
            a.version(),
            a.systemPrompt(),
            a.userPromptTemplate(),
            a.outputArtifact(),
            a.outputSchema(),
            a.model(),
            List.of("gpt-fallback"),
            a.temperature(),
            a.maxTokens());
    // The gateway answers after the worker's GATEWAY_TIMEOUT (2 s here): it runs a call to its end
    // though the caller left, and the provider bills it. Asked again under its key, it says the
    // call still runs, then answers from it.
    List<LoggedRequest> calls =
        completesAfter(
            with(plain, withFallback, null),
            completion(validArchitecture().toString()).withFixedDelay(4_000),
            openAiError(
                    409,
                    "idempotency_key_in_use",
                    "A call with this Idempotency-Key is still running")
                .withHeader("Retry-After", "1"));

    String key = calls.get(0).getHeader("Idempotency-Key");
    for (LoggedRequest call : calls) {
      assertThat(call.getHeader("Idempotency-Key")).isEqualTo(key);
      assertThat(StepFixtures.JSON.readTree(call.getBodyAsString()).path("model").asText())
          .as("the model of every call: the fallback would be a second paid call")
          .isEqualTo("gpt-test");
    }
  }
}
