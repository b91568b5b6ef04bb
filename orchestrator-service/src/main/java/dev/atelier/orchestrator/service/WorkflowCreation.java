package dev.atelier.orchestrator.service;

import dev.atelier.kit.problem.ProblemException;
import dev.atelier.orchestrator.model.AgentDefinition;
import dev.atelier.orchestrator.model.StepDefinition;
import dev.atelier.orchestrator.model.StepRun;
import dev.atelier.orchestrator.model.Transition;
import dev.atelier.orchestrator.model.Usage;
import dev.atelier.orchestrator.model.WorkflowDefinition;
import dev.atelier.orchestrator.model.WorkflowRun;
import dev.atelier.orchestrator.model.WorkflowStateMachine;
import dev.atelier.orchestrator.model.WorkflowStatus;
import dev.atelier.orchestrator.repository.StepRepository;
import dev.atelier.orchestrator.repository.WorkflowRepository;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * Stores a new workflow, its steps, and the messages that start it, in one transaction: either all
 * of it exists and will be published, or none of it.
 */
@ApplicationScoped
class WorkflowCreation {

  /** A validated submission. */
  record Command(
      UUID id,
      String title,
      String requirement,
      String definition,
      String team,
      BigDecimal budgetUsd,
      Map<String, String> metadata,
      Map<String, String> traceContext,
      String traceId,
      String idempotencyKey,
      String requestHash) {}

  private final CurrentDefinitions current;
  private final WorkflowRepository workflows;
  private final StepRepository steps;
  private final WorkflowStateMachine machine;
  private final WorkflowEngine engine;

  WorkflowCreation(
      CurrentDefinitions current,
      WorkflowRepository workflows,
      StepRepository steps,
      WorkflowStateMachine machine,
      WorkflowEngine engine) {
    this.current = current;
    this.workflows = workflows;
    this.steps = steps;
    this.machine = machine;
    this.engine = engine;
  }

  /**
   * Round trips to the database for a new workflow: the idempotency key's look-up (when there is
   * one), the current versions (one small query), the workflow, its steps (one batch), its messages
   * (one batch), its progress events (one statement), the commit.
   */
  @Transactional
  WorkflowDetails create(Command c) {
    // A replay answers with the workflow its key started, before anything is resolved: the
    // definition or a role may have been retired since, and the workflow exists all the same.
    if (c.idempotencyKey() != null) {
      Optional<WorkflowRepository.KeyedSubmission> keyed =
          workflows.findByIdempotencyKey(c.idempotencyKey());
      if (keyed.isPresent()) {
        return existing(c, keyed.get());
      }
    }
    CurrentDefinitions.Resolved resolved =
        current
            .resolve(c.definition())
            .orElseThrow(
                () ->
                    ProblemException.badRequest(
                        "unknown-definition",
                        "there is no workflow definition '"
                            + c.definition()
                            + "'; see GET /api/v1/workflow-definitions"));
    WorkflowDefinition definition = resolved.definition();
    Map<String, AgentDefinition> roleVersions = resolved.agents();
    List<String> missing =
        definition.steps().stream()
            .map(StepDefinition::role)
            .distinct()
            .filter(r -> !roleVersions.containsKey(r))
            .toList();
    if (!missing.isEmpty()) {
      throw ProblemException.conflict(
          "role-missing",
          "workflow definition "
              + definition.name()
              + " uses roles that no longer exist: "
              + missing);
    }
    Instant now = WorkflowEngine.now();
    WorkflowRun workflow =
        new WorkflowRun(
            c.id(),
            c.title(),
            c.requirement(),
            definition.name(),
            definition.version(),
            c.team(),
            WorkflowStatus.RUNNING,
            c.budgetUsd(),
            c.metadata(),
            c.traceContext(),
            c.traceId(),
            null,
            null,
            now,
            now,
            null,
            Usage.NONE);
    // Steps are pinned to the role versions current now: later edits never change this run.
    List<StepRun> created = new ArrayList<>();
    for (int i = 0; i < definition.steps().size(); i++) {
      StepDefinition sd = definition.steps().get(i);
      created.add(
          StepRun.pending(c.id(), sd.id(), i, sd.role(), roleVersions.get(sd.role()).version()));
    }
    // Decided in memory first, so the row is inserted with its status (a first step may be a
    // gate; a zero budget stops it at once) and nothing needs updating after.
    Transition t = machine.start(workflow, created, definition, now);
    if (!workflows.insert(workflow, c.idempotencyKey(), c.requestHash())) {
      // A concurrent request with the same key inserted first.
      return existing(
          c,
          workflows
              .findByIdempotencyKey(c.idempotencyKey())
              .orElseThrow(() -> new IllegalStateException("idempotency key vanished")));
    }
    steps.insertAll(created);
    engine.publish(workflow, created, definition, t);
    return new WorkflowDetails(workflow, created, true);
  }

  private WorkflowDetails existing(Command c, WorkflowRepository.KeyedSubmission keyed) {
    if (!keyed.requestHash().equals(c.requestHash())) {
      throw new ProblemException(
          422,
          "idempotency-key-reused",
          "Idempotency key reused",
          "Idempotency-Key '"
              + c.idempotencyKey()
              + "' was already used for a different request (workflow "
              + keyed.id()
              + ")");
    }
    WorkflowRun workflow = workflows.find(keyed.id()).orElseThrow();
    return new WorkflowDetails(workflow, steps.findByWorkflow(keyed.id()), false);
  }
}
