package dev.atelier.orchestrator;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.DeliverCallback;
import dev.atelier.contracts.ArtifactRef;
import dev.atelier.contracts.AtelierEvent;
import dev.atelier.contracts.EventCodec;
import dev.atelier.contracts.Headers;
import dev.atelier.contracts.StepCompleted;
import dev.atelier.contracts.StepFailed;
import dev.atelier.contracts.StepRequested;
import dev.atelier.contracts.Topology;
import dev.atelier.contracts.WorkflowStatusChanged;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import org.awaitility.Awaitility;
import org.eclipse.microprofile.config.ConfigProvider;

/**
 * Plays the agent workers in tests: consumes every step queue of the test vhost with raw
 * amqp-client, records the requests, and publishes results the way a worker does (to {@code
 * atelier.step-results}, continuing the request's trace). Also listens to workflow status events.
 * One per test JVM; the step queues are durable, so they are purged when a test class starts.
 */
public final class TestWorker {

  public static final List<String> ROLES =
      List.of(
          "business-analyst", "architect", "developer", "tester", "reviewer", "technical-writer");

  /** A step request as it arrived. */
  public record Received(StepRequested request, Map<String, Object> headers, Instant at) {}

  private static TestWorker shared;

  private final Connection connection;
  private final Channel consuming;
  private final Channel publishing;
  private final List<Received> requests = new CopyOnWriteArrayList<>();
  private final java.util.Set<String> consumed = java.util.concurrent.ConcurrentHashMap.newKeySet();
  private final DeliverCallback onRequest;
  private final List<WorkflowStatusChanged> statusEvents = new CopyOnWriteArrayList<>();

  private TestWorker() throws Exception {
    ConnectionFactory factory = new ConnectionFactory();
    var config = ConfigProvider.getConfig();
    factory.setHost(config.getOptionalValue("rabbitmq.host", String.class).orElse("127.0.0.1"));
    factory.setPort(config.getOptionalValue("rabbitmq.port", Integer.class).orElse(5672));
    factory.setVirtualHost(config.getValue("rabbitmq.virtual-host", String.class));
    connection = factory.newConnection("orchestrator-test-worker");
    consuming = connection.createChannel();
    publishing = connection.createChannel();
    publishing.confirmSelect();
    onRequest =
        (tag, delivery) ->
            requests.add(
                new Received(
                    EventCodec.read(delivery.getBody(), StepRequested.class),
                    delivery.getProperties().getHeaders(),
                    Instant.now()));
    for (String role : ROLES) {
      consume(role);
    }
    String events = consuming.queueDeclare().getQueue();
    consuming.queueBind(events, Topology.WORKFLOW_EVENTS_EXCHANGE, "workflow.*");
    consuming.basicConsume(
        events,
        true,
        (tag, delivery) ->
            statusEvents.add(EventCodec.read(delivery.getBody(), WorkflowStatusChanged.class)),
        tag -> {});
  }

  /** The worker of this JVM, with the step queues purged of earlier runs' messages. */
  public static synchronized TestWorker shared() throws Exception {
    if (shared == null) {
      shared = new TestWorker();
    }
    for (String role : ROLES) {
      shared.publishing.queuePurge(Topology.stepQueue(role).name());
    }
    return shared;
  }

  /** Also takes the requests of {@code role}, whose queue the orchestrator has declared. */
  public synchronized void consume(String role) throws java.io.IOException {
    if (consumed.add(role)) {
      consuming.basicConsume(Topology.stepQueue(role).name(), true, onRequest, tag -> {});
    }
  }

  /** Waits for the request of {@code stepKey}'s {@code attempt} in workflow {@code workflowId}. */
  public Received await(UUID workflowId, String stepKey, int attempt) {
    return Awaitility.await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> find(workflowId, stepKey, attempt), r -> r != null);
  }

  public Received find(UUID workflowId, String stepKey, int attempt) {
    return requests.stream()
        .filter(
            r ->
                r.request().workflowId().equals(workflowId)
                    && r.request().stepKey().equals(stepKey)
                    && r.request().attempt() == attempt)
        .findFirst()
        .orElse(null);
  }

  /** Every request received for the workflow, in arrival order. */
  public List<StepRequested> requests(UUID workflowId) {
    return requests.stream()
        .map(Received::request)
        .filter(r -> r.workflowId().equals(workflowId))
        .toList();
  }

  public List<WorkflowStatusChanged> statusEvents(UUID workflowId) {
    return statusEvents.stream().filter(e -> e.workflowId().equals(workflowId)).toList();
  }

  /** Completes the request with one output, {@code <artifact>@<attempt>}, like a worker would. */
  public StepCompleted complete(Received r, String artifact, String verdict) {
    return complete(
        r,
        artifact,
        verdict,
        r.request().stepKey() + " done (attempt " + r.request().attempt() + ")");
  }

  /** Completes the request with one output and the given summary. */
  public StepCompleted complete(Received r, String artifact, String verdict, String summary) {
    StepRequested q = r.request();
    StepCompleted done =
        new StepCompleted(
            UUID.randomUUID(),
            StepCompleted.TYPE,
            Instant.now(),
            q.workflowId(),
            q.stepId(),
            q.stepKey(),
            q.role(),
            q.attempt(),
            List.of(new ArtifactRef(artifact, q.attempt())),
            verdict,
            summary,
            r.at());
    publish(done, Topology.RESULT_COMPLETED, r.headers());
    return done;
  }

  public StepFailed fail(Received r, String code, boolean retryable) {
    return fail(r, code, code + " in test", retryable);
  }

  /** Fails the request with the given error code and message. */
  public StepFailed fail(Received r, String code, String message, boolean retryable) {
    return fail(r, code, message, retryable, null);
  }

  /** A step the gateway refused by a budget of {@code scope} (workflow, team, global). */
  public StepFailed refuseByBudget(Received r, String scope) {
    return fail(
        r,
        StepFailed.BUDGET_EXCEEDED,
        "the LLM gateway answered 402: the " + scope + " budget is exhausted",
        false,
        scope);
  }

  private StepFailed fail(
      Received r, String code, String message, boolean retryable, String budgetScope) {
    StepRequested q = r.request();
    StepFailed failed =
        new StepFailed(
            UUID.randomUUID(),
            StepFailed.TYPE,
            Instant.now(),
            q.workflowId(),
            q.stepId(),
            q.stepKey(),
            q.role(),
            q.attempt(),
            code,
            message,
            retryable,
            r.at(),
            budgetScope);
    publish(failed, Topology.RESULT_FAILED, r.headers());
    return failed;
  }

  /**
   * Publishes an event (again, for duplicates) to the step-results exchange, in the trace of the
   * request it answers.
   */
  public void publish(AtelierEvent event, String routingKey, Map<String, Object> requestHeaders) {
    publish(Topology.STEP_RESULTS_EXCHANGE, routingKey, event, requestHeaders);
  }

  public synchronized void publish(
      String exchange, String routingKey, AtelierEvent event, Map<String, Object> parentHeaders) {
    Map<String, Object> headers = new HashMap<>();
    Object parent = parentHeaders == null ? null : parentHeaders.get(Headers.TRACEPARENT);
    if (parent != null) {
      // Same trace, a new span id: as if the worker's own publish span were the parent.
      String[] parts = parent.toString().split("-");
      byte[] span = new byte[8];
      ThreadLocalRandom.current().nextBytes(span);
      headers.put(
          Headers.TRACEPARENT,
          parts[0] + "-" + parts[1] + "-" + HexFormat.of().formatHex(span) + "-" + parts[3]);
    }
    AMQP.BasicProperties props =
        new AMQP.BasicProperties.Builder()
            .contentType("application/json")
            .deliveryMode(2)
            .messageId(event.eventId().toString())
            .headers(headers)
            .build();
    try {
      publishing.basicPublish(exchange, routingKey, true, props, EventCodec.write(event));
      publishing.waitForConfirmsOrDie(5_000);
    } catch (Exception e) {
      throw new IllegalStateException("cannot publish " + event.type(), e);
    }
  }

  /** The trace id in a request's {@code traceparent} header. */
  public static String traceIdOf(Received r) {
    Object tp = r.headers() == null ? null : r.headers().get(Headers.TRACEPARENT);
    return tp == null ? null : tp.toString().split("-")[1];
  }
}
