package dev.atelier.worker;

import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static dev.atelier.worker.StepFixtures.JSON;
import static dev.atelier.worker.StepFixtures.chatCallsOf;
import static dev.atelier.worker.StepFixtures.chatFor;
import static dev.atelier.worker.StepFixtures.completion;
import static dev.atelier.worker.StepFixtures.future;
import static dev.atelier.worker.StepFixtures.step;
import static dev.atelier.worker.StepFixtures.with;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.is;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import dev.atelier.contracts.AgentSpec;
import dev.atelier.contracts.ArtifactRef;
import dev.atelier.contracts.AtelierEvent;
import dev.atelier.contracts.StepCompleted;
import dev.atelier.contracts.StepRequested;
import dev.atelier.contracts.Topology;
import dev.atelier.kit.amqp.EventPublisher;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import jakarta.inject.Inject;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Two deliveries of one step attempt at once (an outbox message published twice, a redelivery after
 * a lost connection while the first still runs): the second waits for the first's lease and pays
 * for nothing; and should both run anyway (a context-service that grants every lease), the one that
 * stores second takes the other's output as the attempt's, and its result says what that output
 * says.
 */
@QuarkusTest
@WithTestResource(WireMockResource.class)
@WithTestResource(ContextProxyResource.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DuplicateDeliveryTest {

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

  /**
   * Both deliveries arrive together; the answer takes longer than a lease (3 s in tests), so the
   * first run's lease must be renewed meanwhile. One LLM call, and both deliveries report the same
   * result (the second reused the stored output).
   */
  @Test
  void twoDeliveriesOfOneAttemptAtOncePayForOneAnswer() throws Exception {
    UUID workflowId = UUID.randomUUID();
    StepRequested step = step(workflowId, "design", List.of(), future());
    gateway.stubFor(
        chatFor(step)
            .willReturn(
                completion(StepFixtures.validArchitecture().toString()).withFixedDelay(4500)));

    publisher.publish(Topology.STEPS_EXCHANGE, Topology.stepRoutingKey(step.role()), step);
    publisher.publish(Topology.STEPS_EXCHANGE, Topology.stepRoutingKey(step.role()), step);

    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(() -> assertThat(inbox.resultsOf(step.stepId())).hasSize(2));
    List<AtelierEvent> results = inbox.resultsOf(step.stepId());
    assertThat(results).allSatisfy(r -> assertThat(r).isInstanceOf(StepCompleted.class));
    assertThat(results.stream().map(AtelierEvent::eventId).distinct()).hasSize(1);
    assertThat(gateway.findAll(chatCallsOf(step))).hasSize(1);
    assertThat(context.findAll(postRequestedFor(urlPathEqualTo("/api/v1/step-claims/renewals"))))
        .as("the lease renewed while the answer took 4.5 s")
        .isNotEmpty();
    assertThat(
            context.findAll(
                postRequestedFor(
                    urlPathEqualTo("/api/v1/workflows/" + workflowId + "/step-claims"))))
        .as("the waiting run asking for the lease again")
        .isNotEmpty();
  }

  /**
   * A worker that died holding the attempt's lease: the redelivered step waits until that lease
   * runs out, then runs the attempt.
   */
  @Test
  void aLeaseLeftByAWorkerThatDiedIsWaitedOutThenTheStepRuns() throws Exception {
    UUID workflowId = UUID.randomUUID();
    StepRequested step = step(workflowId, "design", List.of(), future());
    String direct = ConfigProvider.getConfig().getValue("context-service.direct-url", String.class);
    Instant runsOut =
        Instant.parse(
            given()
                .contentType(ContentType.JSON)
                .body(
                    Map.of(
                        "key",
                        step.stepId() + ":" + step.attempt(),
                        "holder",
                        "a-worker-that-died/1",
                        "leaseSeconds",
                        3))
                .post(direct + "/api/v1/workflows/{wf}/step-claims", workflowId)
                .then()
                .statusCode(200)
                .body("granted", is(true))
                .extract()
                .<String>path("expiresAt"));
    gateway.stubFor(
        chatFor(step).willReturn(completion(StepFixtures.validArchitecture().toString())));

    publisher.publish(Topology.STEPS_EXCHANGE, Topology.stepRoutingKey(step.role()), step);

    List<AtelierEvent> results = inbox.awaitResultsOf(step.stepId());
    assertThat(results).hasSize(1).first().isInstanceOf(StepCompleted.class);
    List<LoggedRequest> calls = gateway.findAll(chatCallsOf(step));
    assertThat(calls).hasSize(1);
    assertThat(calls.get(0).getLoggedDate().toInstant())
        .as("asked only once the dead worker's lease ran out")
        .isAfterOrEqualTo(runsOut.minusMillis(100));
  }

  @Test
  void theDeliveryThatStoresSecondReportsTheStoredVerdict() throws Exception {
    UUID workflowId = UUID.randomUUID();
    StepRequested plain = step(workflowId, "review", List.of(), future());
    AgentSpec a = plain.agent();
    JsonNode schema =
        JSON.readTree(
            """
            {"type":"object","required":["verdict","summary"],
             "properties":{"verdict":{"enum":["approved","changes_requested"]},
                           "summary":{"type":"string"}}}
            """);
    StepRequested step =
        with(
            plain,
            new AgentSpec(
                a.role(),
                a.version(),
                a.systemPrompt(),
                a.userPromptTemplate(),
                "review",
                schema,
                a.model(),
                a.fallbackModels(),
                a.temperature(),
                a.maxTokens()),
            null);
    String direct = ConfigProvider.getConfig().getValue("context-service.direct-url", String.class);

    // The other delivery's answer, stored under this attempt's keys as a worker stores it.
    ObjectNode producer = JSON.createObjectNode();
    producer.put("stepId", step.stepId().toString()).put("stepKey", "review").put("attempt", 1);
    producer.put("agent", a.role()).put("agentVersion", a.version());
    ObjectNode batch = JSON.createObjectNode();
    ArrayNode artifacts = batch.putArray("artifacts");
    ObjectNode json = artifacts.addObject();
    json.put("name", "review").put("kind", "json").put("mediaType", "application/json");
    json.putObject("content").put("verdict", "approved").put("summary", "Ready to merge");
    json.set("producer", producer);
    ObjectNode md = artifacts.addObject();
    md.put("name", "review.md").put("kind", "markdown").put("mediaType", "text/markdown");
    md.put("content", "# Review\n\nReady to merge").set("producer", producer);
    given()
        .contentType(ContentType.JSON)
        .header("Idempotency-Key", step.stepId() + ":1")
        .body(batch.toString())
        .post(direct + "/api/v1/workflows/{wf}/artifact-writes", workflowId)
        .then()
        .statusCode(201);

    // This delivery read before that write: its read finds no output of the attempt yet.
    String reads = "/api/v1/workflows/" + workflowId + "/artifact-reads";
    context.stubFor(
        post(urlPathEqualTo(reads))
            .atPriority(1)
            .inScenario("read-" + workflowId)
            .whenScenarioStateIs(Scenario.STARTED)
            .willReturn(okJson("{\"artifacts\":[],\"written\":{}}"))
            .willSetStateTo("read"));
    // Its own answer, which it cannot store any more.
    gateway.stubFor(
        chatFor(step)
            .willReturn(
                completion("{\"verdict\":\"changes_requested\",\"summary\":\"Fix the tests\"}")));

    publisher.publish(Topology.STEPS_EXCHANGE, Topology.stepRoutingKey(step.role()), step);

    List<AtelierEvent> results = inbox.awaitResultsOf(step.stepId());
    assertThat(results).hasSize(1).first().isInstanceOf(StepCompleted.class);
    StepCompleted done = (StepCompleted) results.get(0);
    assertThat(done.verdict()).isEqualTo("approved");
    assertThat(done.summary()).isEqualTo("Ready to merge");
    assertThat(done.outputs())
        .containsExactly(ArtifactRef.parse("review@1"), ArtifactRef.parse("review.md@1"));
    assertThat(gateway.findAll(chatCallsOf(step))).hasSize(1);
    for (String name : List.of("review", "review.md")) {
      given()
          .get(direct + "/api/v1/workflows/{wf}/artifacts/{name}/versions", workflowId, name)
          .then()
          .statusCode(200)
          .body("size()", is(1));
    }
  }
}
