package dev.atelier.worker.messaging;

import dev.atelier.contracts.MalformedEventException;
import dev.atelier.contracts.StepRequested;
import dev.atelier.contracts.Topology;
import dev.atelier.kit.amqp.EventConsumers;
import dev.atelier.kit.amqp.EventHandler;
import dev.atelier.kit.amqp.RabbitBroker;
import dev.atelier.kit.amqp.RabbitConfig;
import dev.atelier.worker.config.WorkerConfig;
import dev.atelier.worker.service.StepClaims;
import dev.atelier.worker.service.StepOutcome;
import dev.atelier.worker.service.StepRunner;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.interceptor.Interceptor;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * The worker's entry point: consumes {@code StepRequested} from the step queue of every role in
 * {@code worker.roles}, runs each step and publishes its outcome before the delivery is
 * acknowledged (service-kit acknowledges when this handler returns). A worker that dies mid-step
 * leaves the delivery unacknowledged, so the broker hands it to another worker.
 *
 * <p>On shutdown, the consumers are cancelled first, so the broker gives this worker no more steps
 * (they stay on the queue for the other replicas); running steps get up to {@code
 * quarkus.shutdown.timeout} to finish. A delivery that was already on its way is returned to its
 * queue at once (or, if the consumers could not be cancelled, when the connection closes: returned
 * earlier, it would only come back to this worker).
 */
@ApplicationScoped
public class StepConsumer {

  private static final Logger LOG = Logger.getLogger(StepConsumer.class);
  private static final Duration DEFAULT_DRAIN = Duration.ofSeconds(30);

  private final RabbitBroker broker;
  private final EventConsumers consumers;
  private final StepRunner runner;
  private final ResultPublisher results;
  private final InFlightSteps inFlight;
  private final StepClaims claims;
  private final WorkerConfig config;
  private final RabbitConfig rabbit;
  private final MeterRegistry meters;
  private final Duration drainTimeout;

  /** Set once the drain is over: a step still retrying its result then gives up. */
  private volatile boolean drained;

  /** Set once every consumer was cancelled: a delivery still arriving is returned at once. */
  private volatile boolean cancelled;

  StepConsumer(
      RabbitBroker broker,
      EventConsumers consumers,
      StepRunner runner,
      ResultPublisher results,
      InFlightSteps inFlight,
      StepClaims claims,
      WorkerConfig config,
      RabbitConfig rabbit,
      MeterRegistry meters,
      @ConfigProperty(name = "quarkus.shutdown.timeout") Optional<Duration> shutdownTimeout) {
    this.broker = broker;
    this.consumers = consumers;
    this.runner = runner;
    this.results = results;
    this.inFlight = inFlight;
    this.claims = claims;
    this.config = config;
    this.rabbit = rabbit;
    this.meters = meters;
    this.drainTimeout = shutdownTimeout.orElse(DEFAULT_DRAIN);
  }

  void onStart(@Observes StartupEvent event) {
    // Declared before anything is published, so a result is never unroutable even when the
    // orchestrator has not started yet.
    broker.declare(Topology.ORCHESTRATOR_RESULTS);
    List<String> roles =
        config.roles().stream().map(String::strip).filter(r -> !r.isEmpty()).toList();
    // The step channels and the reader of the workflow endings' stream.
    int channels = roles.size() * config.concurrency() + 1;
    if (channels > rabbit.consumerThreads()) {
      LOG.warnf(
          "%d consumer channels share %d handler threads (rabbitmq.consumer-threads); at most"
              + " %d steps run at once, and workflow endings may wait behind running steps",
          channels, rabbit.consumerThreads(), rabbit.consumerThreads());
    }
    for (String role : roles) {
      consumers.consume(
          Topology.stepQueue(role),
          StepRequested.class,
          config.prefetch(),
          config.concurrency(),
          this::handle);
    }
    LOG.infof("serving roles %s", roles);
  }

  void handle(StepRequested step, EventHandler.Delivery delivery) throws InterruptedException {
    if (step.workflowId() == null || step.stepId() == null || step.agent() == null) {
      // Without these no result can even be addressed; retrying cannot fix the message.
      throw new MalformedEventException(
          "step request " + step.eventId() + " lacks workflowId, stepId or agent", null);
    }
    if (!inFlight.enter()) {
      if (!cancelled) {
        inFlight.awaitConnectionClosed(drainTimeout.plusSeconds(10));
      }
      throw new IllegalStateException("the worker is shutting down; step returned to its queue");
    }
    StepClaims.Lease lease = claims.lease(step);
    try {
      Instant startedAt = Instant.now();
      StepOutcome outcome = runner.run(step, lease);
      if (outcome instanceof StepOutcome.Duplicate d) {
        // Another worker runs this attempt: its result is the attempt's; this one is dropped.
        record(step, outcome, Duration.between(startedAt, Instant.now()));
        LOG.infof(
            "workflow %s step %s (%s) attempt %d not run here: %s",
            step.workflowId(), step.stepKey(), step.role(), step.attempt(), d.reason());
        return;
      }
      // Only the publish is retried from here on: the outcome is final, and running the step again
      // would pay for its LLM calls again.
      results.publish(step, startedAt, outcome, () -> drained);
      Duration took = Duration.between(startedAt, Instant.now());
      record(step, outcome, took);
      LOG.infof(
          "workflow %s step %s (%s) attempt %d %s in %d ms%s",
          step.workflowId(),
          step.stepKey(),
          step.role(),
          step.attempt(),
          outcome.name(),
          took.toMillis(),
          outcome instanceof StepOutcome.Failed f ? ": " + f.errorCode() : "");
    } finally {
      lease.release(); // after the publish: a delivery waiting for it then reuses the stored output
      inFlight.exit();
    }
  }

  void onStop(@Observes @Priority(Interceptor.Priority.APPLICATION) ShutdownEvent event)
      throws InterruptedException {
    // No more deliveries: what waits on the queues is for the other replicas (and KEDA sees it).
    cancelled = consumers.cancelAll();
    if (broker.isOpen()) {
      broker.connection().addShutdownListener(cause -> inFlight.connectionClosed());
    } else {
      inFlight.connectionClosed();
    }
    int running = inFlight.running();
    if (running > 0) {
      LOG.infof("waiting up to %s for %d running steps", drainTimeout, running);
    }
    if (!inFlight.drain(drainTimeout)) {
      LOG.warnf(
          "%d steps still running after %s; they return to their queues",
          inFlight.running(), drainTimeout);
    }
    drained = true;
  }

  private void record(StepRequested step, StepOutcome outcome, Duration took) {
    // The role may be missing from a broken request, which still gets a StepFailed.
    String role = Objects.requireNonNullElse(step.agent().role(), "unknown");
    String errorCode = outcome instanceof StepOutcome.Failed f ? f.errorCode() : "none";
    meters
        .counter(
            "atelier.worker.steps",
            "role",
            role,
            "outcome",
            outcome.name(),
            "error_code",
            errorCode)
        .increment();
    Timer.builder("atelier.worker.step.duration")
        .description("Wall time of a step attempt in the worker, LLM calls and storage included")
        .tag("role", role)
        .tag("outcome", outcome.name())
        .register(meters)
        .record(took);
  }
}
