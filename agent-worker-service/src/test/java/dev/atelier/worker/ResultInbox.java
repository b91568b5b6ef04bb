package dev.atelier.worker;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import dev.atelier.contracts.AtelierEvent;
import dev.atelier.contracts.EventCodec;
import dev.atelier.contracts.StepCompleted;
import dev.atelier.contracts.StepFailed;
import dev.atelier.contracts.Topology;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A test's own view of {@code atelier.step-results}: an exclusive queue bound to every result,
 * collecting what the worker publishes.
 */
final class ResultInbox implements AutoCloseable {

  private final Connection connection;
  private final List<AtelierEvent> received = new CopyOnWriteArrayList<>();

  ResultInbox(String virtualHost) throws Exception {
    this(virtualHost, Topology.STEP_RESULTS_EXCHANGE, "result.*");
  }

  /** Collects whatever is published to {@code exchange} (a topic) under {@code bindingKey}. */
  ResultInbox(String virtualHost, String exchange, String bindingKey) throws Exception {
    ConnectionFactory factory = new ConnectionFactory();
    factory.setHost("127.0.0.1");
    factory.setVirtualHost(virtualHost);
    connection = factory.newConnection("agent-worker-test");
    Channel ch = connection.createChannel();
    ch.exchangeDeclare(exchange, "topic", true);
    String queue = ch.queueDeclare("", false, true, true, Map.of()).getQueue();
    ch.queueBind(queue, exchange, bindingKey);
    ch.basicConsume(
        queue,
        true,
        (tag, delivery) -> received.add(EventCodec.read(delivery.getBody())),
        tag -> {});
  }

  List<AtelierEvent> all() {
    return List.copyOf(received);
  }

  List<AtelierEvent> resultsOf(UUID stepId) {
    return received.stream()
        .filter(
            e ->
                (e instanceof StepCompleted c && c.stepId().equals(stepId))
                    || (e instanceof StepFailed f && f.stepId().equals(stepId)))
        .toList();
  }

  /** Waits up to 30 s for the step's results and returns them (usually one). */
  List<AtelierEvent> awaitResultsOf(UUID stepId) {
    return org.awaitility.Awaitility.await()
        .atMost(java.time.Duration.ofSeconds(30))
        .until(() -> resultsOf(stepId), r -> !r.isEmpty());
  }

  @Override
  public void close() throws Exception {
    connection.close();
  }
}
