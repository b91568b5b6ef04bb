package dev.atelier.contracts;

import java.time.Instant;
import java.util.List;
import java.util.UUID;

/**
 * Published by a worker to {@link Topology#STEP_RESULTS_EXCHANGE} with {@link
 * Topology#RESULT_COMPLETED} once the step's artifacts are stored.
 *
 * @param outputs the artifact versions the attempt wrote
 * @param verdict the step's verdict when its role gives one (reviewer: {@code approved} or {@code
 *     changes_requested}), else {@code null}
 * @param summary a one-line description of the output, for progress displays
 */
public record StepCompleted(
    UUID eventId,
    String type,
    Instant occurredAt,
    UUID workflowId,
    UUID stepId,
    String stepKey,
    String role,
    int attempt,
    List<ArtifactRef> outputs,
    String verdict,
    String summary,
    Instant startedAt)
    implements AtelierEvent {

  public static final String TYPE = "atelier.step.completed.v1";

  public StepCompleted {
    outputs = outputs == null ? List.of() : List.copyOf(outputs);
  }
}
