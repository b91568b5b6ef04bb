package dev.atelier.worker.messaging;

import dev.atelier.contracts.AtelierEvent;
import dev.atelier.contracts.EventCodec;
import dev.atelier.contracts.Topology;
import dev.atelier.contracts.WorkflowStatusChanged;
import dev.atelier.kit.amqp.RabbitBroker;
import dev.atelier.worker.service.EndedWorkflows;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.interceptor.Interceptor;
import java.time.Duration;
import java.util.List;
import org.jboss.logging.Logger;

/**
 * Hears every workflow that ends without completing and notes it in {@link EndedWorkflows}. The
 * endings are kept for a day in a stream bound to {@code atelier.workflow-events} ({@link
 * Topology#WORKFLOW_ENDINGS_STREAM}), which each replica reads from {@link #LOOKBACK} before it
 * starts: a replica that starts after a workflow was cancelled (scaled out because its steps filled
 * the queues, or restarted) knows of it too. Started before the step consumers; the history is read
 * while they start, so a step taken in the first moments may still run, as without this (the
 * orchestrator ignores its result).
 */
@ApplicationScoped
public class WorkflowEndListener {

  private static final Logger LOG = Logger.getLogger(WorkflowEndListener.class);

  /** The statuses after which no step of the workflow is wanted (until it is resumed). */
  static final List<String> ENDINGS = List.of("cancelled", "failed", "budget_exceeded");

  /**
   * How long the stream keeps an ending, and how far back a replica reads: a step attempt's longest
   * timeout, after which a queued step fails on its deadline anyway.
   */
  static final Duration LOOKBACK = Duration.ofHours(24);

  private final RabbitBroker broker;
  private final EndedWorkflows ended;

  public WorkflowEndListener(RabbitBroker broker, EndedWorkflows ended) {
    this.broker = broker;
    this.ended = ended;
  }

  void onStart(@Observes @Priority(Interceptor.Priority.APPLICATION - 1) StartupEvent event) {
    listen();
  }

  /** Reads the endings of the last {@link #LOOKBACK}, then each new one. */
  public void listen() {
    broker.replay(
        Topology.WORKFLOW_ENDINGS_STREAM,
        Topology.WORKFLOW_EVENTS_EXCHANGE,
        ENDINGS.stream().map(Topology::workflowStatusRoutingKey).toList(),
        LOOKBACK,
        LOOKBACK,
        (tag, delivery) -> heard(delivery.getBody()));
  }

  void heard(byte[] body) {
    AtelierEvent event;
    try {
      event = EventCodec.read(body);
    } catch (RuntimeException e) {
      LOG.debugf("ignoring an unreadable workflow event: %s", e.getMessage());
      return;
    }
    if (event instanceof WorkflowStatusChanged changed
        && changed.workflowId() != null
        && changed.occurredAt() != null
        && ENDINGS.contains(changed.status())) {
      ended.ended(changed.workflowId(), changed.status(), changed.occurredAt());
      LOG.debugf(
          "workflow %s became %s at %s: its queued steps will not run",
          changed.workflowId(), changed.status(), changed.occurredAt());
    }
  }
}
