package dev.atelier.worker;

import static dev.atelier.worker.StepFixtures.chatCallsOf;
import static dev.atelier.worker.StepFixtures.chatFor;
import static dev.atelier.worker.StepFixtures.completion;
import static dev.atelier.worker.StepFixtures.step;
import static dev.atelier.worker.StepFixtures.validArchitecture;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.github.tomakehurst.wiremock.WireMockServer;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The LLM gateway refusing connections (restarting) when a step runs: the worker tries again with
 * backoff and the step completes once the gateway is up, instead of failing its attempt at once.
 */
@QuarkusTest
@WithTestResource(LateGatewayResource.class)
@WithTestResource(ContextServiceResource.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
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
}
