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
import java.util.List;
import org.jboss.logging.Logger;

/**
 * Hears every workflow that ends without completing, on a queue of this replica's own bound to
 * {@code atelier.workflow-events}, and notes it in {@link EndedWorkflows}. Started before the step
 * consumers, so a step taken from the queue can already be checked against it.
 *
 * <p>What a replica did not hear (it was not connected at the time: starting, or the broker
 * unreachable) it does not know: such a step runs, as it would without this, and the orchestrator
 * ignores its result.
 */
@ApplicationScoped
public class WorkflowEndListener {

  private static final Logger LOG = Logger.getLogger(WorkflowEndListener.class);

  /** The statuses after which no step of the workflow is wanted (until it is resumed). */
  static final List<String> ENDINGS = List.of("cancelled", "failed", "budget_exceeded");

  /** Enough for a burst of endings; beyond it the oldest unread are dropped. */
  private static final int QUEUE_LIMIT = 10_000;

  private final RabbitBroker broker;
  private final EndedWorkflows ended;

  WorkflowEndListener(RabbitBroker broker, EndedWorkflows ended) {
    this.broker = broker;
    this.ended = ended;
  }

  void onStart(@Observes @Priority(Interceptor.Priority.APPLICATION - 1) StartupEvent event) {
    broker.subscribe(
        Topology.WORKFLOW_EVENTS_EXCHANGE,
        ENDINGS.stream().map(Topology::workflowStatusRoutingKey).toList(),
        QUEUE_LIMIT,
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
