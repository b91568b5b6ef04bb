package dev.atelier.contracts;

import java.time.Instant;
import java.util.UUID;

/**
 * Published by the orchestrator to {@link Topology#WORKFLOW_EVENTS_EXCHANGE} with routing key
 * {@code workflow.<status>} whenever a workflow changes status.
 *
 * @param status new status, lower case: {@code running}, {@code waiting_approval}, {@code
 *     completed}, {@code failed}, {@code cancelled}, {@code budget_exceeded} (stopped because the
 *     workflow's budget could not admit another LLM call)
 * @param previousStatus the status before, or {@code null} for a new workflow
 * @param reason why, for failures and cancellations
 */
public record WorkflowStatusChanged(
    UUID eventId,
    String type,
    Instant occurredAt,
    UUID workflowId,
    String definition,
    int definitionVersion,
    String title,
    String team,
    String status,
    String previousStatus,
    String reason)
    implements AtelierEvent {

  public static final String TYPE = "atelier.workflow.status-changed.v1";
}
