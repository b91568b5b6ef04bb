package dev.atelier.systemtest;

import static dev.atelier.systemtest.SuiteApi.stepState;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import dev.atelier.contracts.Topology;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A worker stopped (SIGTERM: a scale-down, a rollout) finishes the steps it runs, and takes no new
 * ones meanwhile: a step dispatched during its drain waits on its queue for another worker instead
 * of sitting in the draining one until it exits. Two workflows are started 3 s apart with a 5 s
 * simulated LLM latency, and the worker is stopped while both first steps run: the first one's next
 * step is dispatched while the second still keeps the worker draining.
 */
class WorkerShutdownIT {

  private static final Duration LLM_LATENCY = Duration.ofSeconds(5);

  private static AtelierSuite suite;

  @BeforeAll
  static void startSuite() throws Exception {
    suite = AtelierSuite.startWithLlmLatency(LLM_LATENCY, Map.of());
  }

  @AfterAll
  static void stopSuite() {
    if (suite != null) {
      suite.close();
    }
  }

  @Test
  void aDrainingWorkerFinishesItsStepsAndLeavesNewOnesOnTheQueue() throws Exception {
    String first = submit("first");
    awaitDispatched(first, "analyse");
    Awaitility.await()
        .pollDelay(Duration.ofSeconds(3))
        .atMost(Duration.ofSeconds(4))
        .until(() -> true);
    String second = submit("second");
    awaitDispatched(second, "analyse");
    // Delivered and inside its LLM call before the worker is stopped.
    Awaitility.await()
        .pollDelay(Duration.ofSeconds(1))
        .atMost(Duration.ofSeconds(2))
        .until(() -> true);

    CompletableFuture<Boolean> exited =
        CompletableFuture.supplyAsync(
            () -> suite.terminate("agent-worker", Duration.ofSeconds(60)));

    // The first analysis ends during the drain; its design step goes out while the second
    // analysis keeps the worker alive, and stays on the architect's queue.
    ConnectionFactory f = new ConnectionFactory();
    f.setHost("127.0.0.1");
    f.setVirtualHost(AtelierSuite.VHOST);
    try (Connection c = f.newConnection("worker-shutdown-it");
        Channel ch = c.createChannel()) {
      String architect = Topology.stepQueue("architect").name();
      Awaitility.await("the design step waiting on " + architect)
          .atMost(Duration.ofSeconds(20))
          .pollInterval(Duration.ofMillis(100))
          .until(() -> ch.messageCount(architect) == 1);
      assertThat(exited).as("the worker still draining").isNotDone();
    }
    assertThat(exited.get(60, TimeUnit.SECONDS)).as("the worker exited on SIGTERM").isTrue();
    // Both steps it ran finished: not cut off, so not run (and paid for) again.
    for (String id : new String[] {first, second}) {
      Awaitility.await("analyse of " + id + " succeeded")
          .atMost(Duration.ofSeconds(20))
          .until(() -> "succeeded".equals(stepState(suite.url("orchestrator"), id, "analyse")));
    }

    suite.restart("agent-worker");
    for (String id : new String[] {first, second}) {
      JsonNode workflow =
          SuiteApi.awaitEnded(suite.url("orchestrator"), id, Duration.ofSeconds(240));
      assertThat(workflow.path("status").asText())
          .as("workflow ended %s (%s)", workflow.path("status"), workflow.path("failureReason"))
          .isEqualTo("completed");
      for (JsonNode s : workflow.path("steps")) {
        assertThat(s.path("attempt").asInt()).as("attempts of %s", s.path("key")).isEqualTo(1);
      }
    }
  }

  private static String submit(String title) {
    return SuiteApi.submit(suite.url("orchestrator"), title, "A to-do list with due dates.");
  }

  private static void awaitDispatched(String workflowId, String key) {
    Awaitility.await(key + " of " + workflowId + " dispatched")
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(100))
        .until(() -> "dispatched".equals(stepState(suite.url("orchestrator"), workflowId, key)));
  }
}
