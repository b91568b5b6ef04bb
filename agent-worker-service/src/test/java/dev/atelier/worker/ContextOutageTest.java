package dev.atelier.worker;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static dev.atelier.worker.StepFixtures.chatCallsOf;
import static dev.atelier.worker.StepFixtures.chatFor;
import static dev.atelier.worker.StepFixtures.completion;
import static dev.atelier.worker.StepFixtures.step;
import static dev.atelier.worker.StepFixtures.validArchitecture;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.stubbing.StubMapping;
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
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * context-service down while a step stores its output: the worker holds the step and its paid LLM
 * answer, retrying with backoff, instead of failing the attempt after a few quick retries.
 */
@QuarkusTest
@WithTestResource(WireMockResource.class)
@WithTestResource(ContextProxyResource.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ContextOutageTest {

  private static final String WRITES = ".*/artifact-writes";

  @WireMockResource.Gateway WireMockServer gateway;
  @ContextProxyResource.Proxy WireMockServer context;

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
  void aStepWaitsForContextServiceWithItsAnswerInsteadOfFailingTheAttempt() {
    UUID workflowId = UUID.randomUUID();
    StepRequested step = step(workflowId, "design", List.of(), Instant.now().plusSeconds(300));
    gateway.stubFor(chatFor(step).willReturn(completion(validArchitecture().toString())));
    StubMapping down =
        context.stubFor(
            post(urlPathMatching(WRITES))
                .atPriority(1)
                .willReturn(aResponse().withStatus(503).withBody("restarting")));

    publisher.publish(Topology.STEPS_EXCHANGE, Topology.stepRoutingKey(step.role()), step);

    // Four refused writes were all the old policy allowed before failing the attempt.
    await().atMost(Duration.ofSeconds(30)).until(() -> writesSeen() >= 5);
    assertThat(inbox.resultsOf(step.stepId())).isEmpty();
    context.removeStub(down);

    List<AtelierEvent> results = inbox.awaitResultsOf(step.stepId());
    assertThat(results).hasSize(1).first().isInstanceOf(StepCompleted.class);
    // One LLM call: the answer waited for context-service instead of being asked for again.
    assertThat(gateway.findAll(chatCallsOf(step))).hasSize(1);
    // Straight from context-service, past the proxy.
    String contextUrl =
        ConfigProvider.getConfig().getValue("context-service.direct-url", String.class);
    String stored =
        given()
            .get(
                contextUrl + "/api/v1/workflows/{wf}/artifacts/architecture/versions/1", workflowId)
            .then()
            .statusCode(200)
            .extract()
            .path("content.summary");
    assertThat(stored).isEqualTo("Two services behind a gateway");
  }

  private int writesSeen() {
    return context.findAll(postRequestedFor(urlPathMatching(WRITES))).size();
  }
}
