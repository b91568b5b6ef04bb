package dev.atelier.orchestrator.model;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.UUID;

/**
 * One entry of a workflow's progress log, as the events stream sends it.
 *
 * @param seq position in the workflow's log, from 1; the stream's event id
 * @param type {@code step.dispatched}, {@code step.succeeded}, {@code step.failed}, {@code
 *     step.retry_scheduled}, {@code step.cancelled}, {@code step.waiting_approval} or {@code
 *     workflow.<status>}
 * @param usage the workflow's LLM usage so far
 * @param budgetUsd on {@code workflow.<status>} events: the workflow's budget, if it has one
 * @param spentUsd on {@code workflow.<status>} events: what its LLM calls cost so far (as {@code
 *     usage.costUsd}); the spend that stopped a {@code workflow.budget_exceeded} one
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ProgressEvent(
    long seq,
    String type,
    UUID workflowId,
    String status,
    String stepKey,
    UUID stepId,
    Integer attempt,
    String errorCode,
    String message,
    Usage usage,
    BigDecimal budgetUsd,
    BigDecimal spentUsd,
    Instant at) {

  private static final String WORKFLOW_PREFIX = "workflow.";

  /** Whether the workflow ended with this event: nothing follows it unless it is retried. */
  @JsonIgnore
  public boolean isFinal() {
    // One list of final states: the status enum's.
    return type.startsWith(WORKFLOW_PREFIX)
        && status != null
        && type.equals(WORKFLOW_PREFIX + status)
        && WorkflowStatus.of(status).isTerminal();
  }
}
