package dev.atelier.worker.messaging;

import dev.atelier.contracts.AtelierEvent;
import dev.atelier.contracts.StepCompleted;
import dev.atelier.contracts.StepFailed;
import dev.atelier.contracts.StepRequested;
import dev.atelier.contracts.Topology;
import dev.atelier.kit.amqp.EventPublisher;
import dev.atelier.worker.service.StepOutcome;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.UUID;

/**
 * Publishes a step attempt's outcome to {@link Topology#STEP_RESULTS_EXCHANGE} and waits for the
 * broker's confirm. The event id is derived from (step, attempt, outcome), so a redelivered step
 * that ends the same way republishes the same event id and the orchestrator drops the duplicate.
 */
@ApplicationScoped
public class ResultPublisher {

  private final EventPublisher publisher;

  ResultPublisher(EventPublisher publisher) {
    this.publisher = publisher;
  }

  /**
   * Publishes the outcome.
   *
   * @throws dev.atelier.kit.amqp.PublishException when the broker does not confirm; the step is
   *     then redelivered and its stored outputs reused
   */
  public AtelierEvent publish(StepRequested step, Instant startedAt, StepOutcome outcome) {
    UUID eventId = eventId(step.stepId(), step.attempt(), outcome.name());
    String role = step.agent() == null ? null : step.agent().role();
    AtelierEvent event;
    String routingKey;
    if (outcome instanceof StepOutcome.Completed c) {
      event =
          new StepCompleted(
              eventId,
              StepCompleted.TYPE,
              Instant.now(),
              step.workflowId(),
              step.stepId(),
              step.stepKey(),
              role,
              step.attempt(),
              c.outputs(),
              c.verdict(),
              c.summary(),
              startedAt);
      routingKey = Topology.RESULT_COMPLETED;
    } else {
      StepOutcome.Failed f = (StepOutcome.Failed) outcome;
      event =
          new StepFailed(
              eventId,
              StepFailed.TYPE,
              Instant.now(),
              step.workflowId(),
              step.stepId(),
              step.stepKey(),
              role,
              step.attempt(),
              f.errorCode(),
              f.message(),
              f.retryable(),
              startedAt);
      routingKey = Topology.RESULT_FAILED;
    }
    publisher.publish(Topology.STEP_RESULTS_EXCHANGE, routingKey, event);
    return event;
  }

  /** The result's event id: the same for every delivery of one attempt that ends the same way. */
  public static UUID eventId(UUID stepId, int attempt, String outcome) {
    return UUID.nameUUIDFromBytes(
        ("atelier.step-result:" + stepId + ":" + attempt + ":" + outcome)
            .getBytes(StandardCharsets.UTF_8));
  }
}
