package dev.atelier.worker;

import static dev.atelier.worker.StepFixtures.chatCallsOf;
import static dev.atelier.worker.StepFixtures.chatFor;
import static dev.atelier.worker.StepFixtures.completion;
import static dev.atelier.worker.StepFixtures.future;
import static dev.atelier.worker.StepFixtures.step;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import dev.atelier.contracts.AtelierEvent;
import dev.atelier.contracts.StepFailed;
import dev.atelier.contracts.StepRequested;
import dev.atelier.contracts.Topology;
import dev.atelier.kit.amqp.EventPublisher;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The broker refusing a step's result for a while: the worker publishes the same outcome again
 * until it is taken, instead of running the step again (and paying for its LLM calls again).
 */
@QuarkusTest
@WithTestResource(WireMockResource.class)
@WithTestResource(ContextServiceResource.class)
class ResultPublishOutageTest {

  private static final String VHOST = "atelier-test-worker";

  @WireMockResource.Gateway WireMockServer gateway;

  @Inject EventPublisher publisher;
  @Inject MeterRegistry meters;

  @Test
  void aResultTheBrokerRefusesIsPublishedAgainWithoutRunningTheStepAgain() throws Exception {
    // Never conforms: output_invalid after three calls, an outcome context-service does not keep.
    StepRequested step = step(UUID.randomUUID(), "design", List.of(), future());
    gateway.stubFor(chatFor(step).willReturn(completion("{\"summary\": 42}")));
    double before = publishFailures();

    ConnectionFactory factory = new ConnectionFactory();
    factory.setHost("127.0.0.1");
    factory.setVirtualHost(VHOST);
    try (Connection connection = factory.newConnection("agent-worker-test-unbind")) {
      Channel ch = connection.createChannel();
      // No queue takes results now: the broker returns each publish of one as unroutable.
      for (String key : Topology.ORCHESTRATOR_RESULTS.routingKeys()) {
        ch.queueUnbind(Topology.ORCHESTRATOR_RESULTS.name(), Topology.STEP_RESULTS_EXCHANGE, key);
      }
      ResultInbox inbox;
      try {
        publisher.publish(Topology.STEPS_EXCHANGE, Topology.stepRoutingKey(step.role()), step);

        await().atMost(Duration.ofSeconds(30)).until(() -> publishFailures() >= before + 3);
        assertThat(gateway.findAll(chatCallsOf(step))).hasSize(3);
      } finally {
        try {
          // Bound before the orchestrator's queue comes back, so it sees the retried result.
          inbox = new ResultInbox(VHOST);
        } finally {
          for (String key : Topology.ORCHESTRATOR_RESULTS.routingKeys()) {
            ch.queueBind(Topology.ORCHESTRATOR_RESULTS.name(), Topology.STEP_RESULTS_EXCHANGE, key);
          }
        }
      }
      try (inbox) {
        List<AtelierEvent> results = inbox.awaitResultsOf(step.stepId());
        assertThat(results).hasSize(1).first().isInstanceOf(StepFailed.class);
        assertThat(((StepFailed) results.get(0)).errorCode()).isEqualTo("output_invalid");
      }
    }
    // Three calls for one run of the step: the retries repeated only the publish.
    assertThat(gateway.findAll(chatCallsOf(step))).hasSize(3);
  }

  private double publishFailures() {
    Counter counter = meters.find("atelier.worker.result.publish.failures").counter();
    return counter == null ? 0 : counter.count();
  }
}
