package dev.atelier.orchestrator.model;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * A declarative workflow: a DAG of steps. Immutable per version; a running workflow keeps the
 * version it started with.
 *
 * @param version assigned by the store; ignored on input
 * @param createdAt when this version was stored; ignored on input
 */
public record WorkflowDefinition(
    String name, int version, String description, List<StepDefinition> steps, Instant createdAt) {

  public WorkflowDefinition {
    steps = steps == null ? List.of() : List.copyOf(steps);
  }

  public Optional<StepDefinition> step(String id) {
    return steps.stream().filter(s -> s.id().equals(id)).findFirst();
  }

  public WorkflowDefinition stored(String name, int version, Instant createdAt) {
    return new WorkflowDefinition(name, version, description, steps, createdAt);
  }
}
