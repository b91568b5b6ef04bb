package dev.atelier.worker.service;

import dev.atelier.contracts.StepRequested;
import dev.atelier.worker.config.WorkerConfig;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * The workflows this replica heard end without completing ({@code cancelled}, {@code failed},
 * {@code budget_exceeded}), so that a step of one still waiting on its queue, or a repair call of
 * one still running, is not paid for: the orchestrator would ignore its result.
 *
 * <p>A step is stopped only if it was requested before the workflow ended. A failed workflow can be
 * resumed ({@code POST .../retry}), and the steps that resumes are requested after its end, so they
 * run. Both times come from the orchestrator's clock; should two orchestrator replicas' clocks
 * differ enough to misjudge that, the orchestrator sends the attempt again without spending a try.
 *
 * <p>At most {@code worker.ended-workflows} are remembered, the oldest news forgotten first: only a
 * workflow with steps still queued matters, and those are the recent ones.
 */
@ApplicationScoped
public class EndedWorkflows {

  /** How a workflow ended, as its {@code WorkflowStatusChanged} said. */
  public record Ending(String status, Instant at) {}

  private final Map<UUID, Ending> endings;

  @Inject
  EndedWorkflows(WorkerConfig config) {
    this(config.endedWorkflows());
  }

  public EndedWorkflows(int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("worker.ended-workflows must be at least 1: " + capacity);
    }
    this.endings =
        new LinkedHashMap<>(16, 0.75f, false) {
          @Override
          protected boolean removeEldestEntry(Map.Entry<UUID, Ending> eldest) {
            return size() > capacity;
          }
        };
  }

  /** Notes that {@code workflowId} ended with {@code status} at {@code at}; the latest end wins. */
  public synchronized void ended(UUID workflowId, String status, Instant at) {
    Ending known = endings.get(workflowId);
    if (known == null || at.isAfter(known.at())) {
      // Removed first, so the entry counts as new news for eviction.
      endings.remove(workflowId);
      endings.put(workflowId, new Ending(status, at));
    }
  }

  /** How the step's workflow ended after the step was requested, if it did. */
  public synchronized Optional<Ending> after(StepRequested step) {
    if (step.workflowId() == null || step.occurredAt() == null) {
      return Optional.empty();
    }
    Ending ending = endings.get(step.workflowId());
    return ending != null && ending.at().isAfter(step.occurredAt())
        ? Optional.of(ending)
        : Optional.empty();
  }

  /**
   * @throws StepFailure {@link StepFailure#WORKFLOW_ENDED} when the step's workflow ended after the
   *     step was requested
   */
  public void check(StepRequested step) {
    Optional<Ending> ending = after(step);
    if (ending.isPresent()) {
      throw new StepFailure(
          StepFailure.WORKFLOW_ENDED,
          true,
          "workflow "
              + step.workflowId()
              + " became "
              + ending.get().status()
              + " at "
              + ending.get().at()
              + ", after this step was requested; no LLM call was made for it from then on");
    }
  }

  public synchronized int size() {
    return endings.size();
  }
}
