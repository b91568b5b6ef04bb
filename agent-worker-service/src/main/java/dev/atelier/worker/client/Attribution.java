package dev.atelier.worker.client;

import io.opentelemetry.api.baggage.Baggage;
import io.opentelemetry.context.Context;
import java.util.Optional;

/**
 * Who an LLM call is made for. It travels as OpenTelemetry baggage in the step's context, so it
 * reaches every outbound call made while the step runs (and the gateway's trace) without being
 * passed through each method; {@link AttributionHeaders} turns it into the gateway's attribution
 * headers. {@code workflowBudgetUsd}, the workflow's whole budget (plain decimal, or {@code null}),
 * lets the gateway create or raise the workflow's hard budget on the first call it sees; {@code
 * team}, the workflow's team, is who the gateway bills (the worker's key is a service key).
 */
public record Attribution(
    String workflowId,
    String stepId,
    String agent,
    String conversationId,
    String workflowBudgetUsd,
    String team) {

  static final String WORKFLOW_ID = "atelier.workflow.id";
  static final String STEP_ID = "atelier.step.id";
  static final String AGENT = "atelier.agent";
  static final String CONVERSATION_ID = "atelier.conversation.id";
  static final String WORKFLOW_BUDGET_USD = "atelier.workflow.budget_usd";
  static final String TEAM = "atelier.team";

  /** {@code context} with this attribution added to its baggage. */
  public Context storeIn(Context context) {
    var baggage =
        Baggage.fromContext(context).toBuilder()
            .put(WORKFLOW_ID, workflowId)
            .put(STEP_ID, stepId)
            .put(AGENT, agent)
            .put(CONVERSATION_ID, conversationId);
    if (workflowBudgetUsd != null) {
      baggage.put(WORKFLOW_BUDGET_USD, workflowBudgetUsd);
    }
    if (team != null) {
      baggage.put(TEAM, team);
    }
    return baggage.build().storeInContext(context);
  }

  /** The attribution in the current context's baggage, if a step is running. */
  public static Optional<Attribution> current() {
    Baggage baggage = Baggage.current();
    String stepId = baggage.getEntryValue(STEP_ID);
    if (stepId == null) {
      return Optional.empty();
    }
    return Optional.of(
        new Attribution(
            baggage.getEntryValue(WORKFLOW_ID),
            stepId,
            baggage.getEntryValue(AGENT),
            baggage.getEntryValue(CONVERSATION_ID),
            baggage.getEntryValue(WORKFLOW_BUDGET_USD),
            baggage.getEntryValue(TEAM)));
  }
}
