package dev.atelier.contracts;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Published by the orchestrator to {@link Topology#STEPS_EXCHANGE} with routing key {@code
 * step.<role>}: run one attempt of one step. Carries references to input artifacts, never their
 * bodies. The requirement itself is the workflow's input (bounded in size by the orchestrator) and
 * travels with the step.
 *
 * @param stepId identifies the step within its workflow run (stable across attempts)
 * @param stepKey the step's id in the workflow definition, for example {@code implement}
 * @param attempt attempt number, starting at 1; {@code (stepId, attempt)} is the idempotency key of
 *     the step's writes
 * @param deadline the time after which the orchestrator treats the attempt as timed out
 * @param budgetRemainingUsd what the workflow may still spend, or {@code null} when it has no
 *     budget
 * @param budgetLimitUsd the workflow's whole budget, or {@code null} when it has none; the worker
 *     passes it to the gateway in {@link Headers#WORKFLOW_BUDGET_USD}, where it is enforced
 * @param feedback comments the step should take into account (reviewer findings, an approver's
 *     comment)
 */
public record StepRequested(
    UUID eventId,
    String type,
    Instant occurredAt,
    UUID workflowId,
    UUID stepId,
    String stepKey,
    int attempt,
    AgentSpec agent,
    String requirement,
    List<ArtifactRef> inputs,
    Instant deadline,
    BigDecimal budgetRemainingUsd,
    BigDecimal budgetLimitUsd,
    String feedback,
    Map<String, String> metadata)
    implements AtelierEvent {

  public static final String TYPE = "atelier.step.requested.v1";

  public StepRequested {
    inputs = inputs == null ? List.of() : List.copyOf(inputs);
    metadata = metadata == null ? Map.of() : Map.copyOf(metadata);
  }

  public String role() {
    return agent.role();
  }
}
