package dev.atelier.worker.messaging;

import dev.atelier.contracts.AtelierEvent;
import dev.atelier.contracts.StepCompleted;
import dev.atelier.contracts.StepFailed;
import dev.atelier.contracts.StepRequested;
import dev.atelier.contracts.Topology;
import dev.atelier.kit.amqp.EventPublisher;
import dev.atelier.kit.amqp.PublishException;
import dev.atelier.worker.service.StepOutcome;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.jboss.logging.Logger;

/**
 * Publishes a step attempt's outcome to {@link Topology#STEP_RESULTS_EXCHANGE} and waits for the
 * broker's confirm. The event id is derived from (step, attempt, outcome), so a redelivered step
 * that ends the same way republishes the same event id and the orchestrator drops the duplicate.
 *
 * <p>A publish the broker does not confirm (a memory or disk alarm, a quorum leader election, a
 * lost connection) is tried again here, the same event, with backoff (250 ms doubling to 5 s):
 * failing the handler instead would run the step again, LLM calls included, since only a completed
 * outcome is stored. The retries go on until the step's deadline, but at least {@link #MIN_RETRY}
 * and at most {@link #MAX_RETRY}; {@code atelier.worker.result.publish.failures} counts the failed
 * tries.
 */
@ApplicationScoped
public class ResultPublisher {

  /**
   * How long a result is retried even when the step's deadline is nearer or past: the orchestrator
   * times an attempt out on its own scan, after the deadline, and may still take the result.
   */
  static final Duration MIN_RETRY = Duration.ofSeconds(30);

  /** How long a result is retried at most, for a step without deadline or a distant one. */
  static final Duration MAX_RETRY = Duration.ofMinutes(10);

  private static final Logger LOG = Logger.getLogger(ResultPublisher.class);
  private static final long FIRST_DELAY_MS = 250;
  private static final long MAX_DELAY_MS = 5_000;

  private final EventPublisher publisher;
  private final Counter failures;

  ResultPublisher(EventPublisher publisher, MeterRegistry meters) {
    this.publisher = publisher;
    this.failures =
        Counter.builder("atelier.worker.result.publish.failures")
            .description("Step results the broker did not confirm, each try counted")
            .register(meters);
  }

  /**
   * Publishes the outcome, trying again while the broker does not confirm it.
   *
   * @param giveUp asked after each failed try; true stops the retries (shutting down)
   * @throws IllegalStateException when the broker has not confirmed in time; not a transient
   *     failure, so the delivery returns to its queue instead of the handler running again in place
   */
  public AtelierEvent publish(
      StepRequested step, Instant startedAt, StepOutcome outcome, BooleanSupplier giveUp)
      throws InterruptedException {
    Result result = event(step, startedAt, outcome);
    Instant until = retryUntil(step.deadline(), Instant.now());
    long delay = FIRST_DELAY_MS;
    for (int tries = 1; ; tries++) {
      try {
        publisher.publish(Topology.STEP_RESULTS_EXCHANGE, result.routingKey(), result.event());
        if (tries > 1) {
          LOG.infof(
              "result of step %s attempt %d published after %d tries",
              step.stepId(), step.attempt(), tries);
        }
        return result.event();
      } catch (PublishException e) {
        failures.increment();
        if (giveUp.getAsBoolean() || Instant.now().plusMillis(delay).isAfter(until)) {
          LOG.warnf(
              e,
              "result of step %s attempt %d not confirmed after %d tries; returning the step to"
                  + " its queue",
              step.stepId(),
              step.attempt(),
              tries);
          // Without the cause: a confirm timeout in it would make the consumer run the handler,
          // and so the step, again in place.
          throw new IllegalStateException(
              "the result of step "
                  + step.stepId()
                  + " attempt "
                  + step.attempt()
                  + " was not confirmed after "
                  + tries
                  + " tries: "
                  + e.getMessage());
        }
        if (tries == 1) {
          LOG.warnf(
              "result of step %s attempt %d not confirmed (%s); trying it again until %s",
              step.stepId(), step.attempt(), e.getMessage(), until);
        }
        TimeUnit.MILLISECONDS.sleep(delay);
        delay = Math.min(delay * 2, MAX_DELAY_MS);
      }
    }
  }

  /** Until when an unconfirmed result is tried again. */
  static Instant retryUntil(Instant deadline, Instant now) {
    Instant earliest = now.plus(MIN_RETRY);
    Instant latest = now.plus(MAX_RETRY);
    if (deadline == null || deadline.isAfter(latest)) {
      return latest;
    }
    return deadline.isBefore(earliest) ? earliest : deadline;
  }

  private record Result(AtelierEvent event, String routingKey) {}

  /** The result event, built once so every try publishes the same one. */
  private static Result event(StepRequested step, Instant startedAt, StepOutcome outcome) {
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
              startedAt,
              f.budgetScope());
      routingKey = Topology.RESULT_FAILED;
    }
    return new Result(event, routingKey);
  }

  /** The result's event id: the same for every delivery of one attempt that ends the same way. */
  public static UUID eventId(UUID stepId, int attempt, String outcome) {
    return UUID.nameUUIDFromBytes(
        ("atelier.step-result:" + stepId + ":" + attempt + ":" + outcome)
            .getBytes(StandardCharsets.UTF_8));
  }
}
