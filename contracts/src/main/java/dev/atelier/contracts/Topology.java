package dev.atelier.contracts;

import java.util.List;

/**
 * Names of Atelier's RabbitMQ exchanges, queues, routing keys and message headers. All are durable.
 */
public final class Topology {

  /** Topic exchange for {@link StepRequested}, routing key {@code step.<role>}. */
  public static final String STEPS_EXCHANGE = "atelier.steps";

  /** Topic exchange for {@link StepCompleted} and {@link StepFailed}. */
  public static final String STEP_RESULTS_EXCHANGE = "atelier.step-results";

  /** Topic exchange for {@link LlmCallRecorded}. */
  public static final String LLM_CALLS_EXCHANGE = "atelier.llm-calls";

  /** Topic exchange for {@link WorkflowStatusChanged}, routing key {@code workflow.<status>}. */
  public static final String WORKFLOW_EVENTS_EXCHANGE = "atelier.workflow-events";

  /**
   * Topic exchange for {@link BudgetThresholdCrossed}, routing key {@code
   * budget.<scope>.<percent>}.
   */
  public static final String BUDGET_EVENTS_EXCHANGE = "atelier.budget-events";

  public static final String RESULT_COMPLETED = "result.completed";
  public static final String RESULT_FAILED = "result.failed";
  public static final String LLM_CALL = "llm.call";

  /** Dead letters of every step queue go through one fanout exchange to one queue. */
  public static final String STEPS_DEAD_LETTER_EXCHANGE = "atelier.steps.dlx";

  public static final String STEPS_DEAD_LETTER_QUEUE = "atelier.steps.dead";

  public static final QueueSpec ORCHESTRATOR_RESULTS =
      QueueSpec.of("atelier.orchestrator.results", STEP_RESULTS_EXCHANGE, "result.*");

  /**
   * The orchestrator keeps per-workflow token and cost totals from the same records the ledger
   * stores.
   */
  public static final QueueSpec ORCHESTRATOR_LLM_CALLS =
      QueueSpec.of("atelier.orchestrator.llm-calls", LLM_CALLS_EXCHANGE, LLM_CALL);

  public static final QueueSpec TRACKING_LLM_CALLS =
      QueueSpec.of("atelier.tracking.llm-calls", LLM_CALLS_EXCHANGE, LLM_CALL);

  public static final QueueSpec TRACKING_WORKFLOW_EVENTS =
      QueueSpec.of("atelier.tracking.workflow-events", WORKFLOW_EVENTS_EXCHANGE, "workflow.*");

  /**
   * A stream (a RabbitMQ stream queue, read whole by every reader) of the workflows that ended
   * without completing: every agent worker reads it, from a while back when it starts, so that it
   * makes no more LLM calls for their steps still queued.
   */
  public static final String WORKFLOW_ENDINGS_STREAM = "atelier.workflow-endings";

  /** tracking-service keeps the history of budget threshold crossings. */
  public static final QueueSpec TRACKING_BUDGET_EVENTS =
      QueueSpec.of("atelier.tracking.budget-events", BUDGET_EVENTS_EXCHANGE, "budget.#");

  /** All topic exchanges. */
  public static final List<String> EXCHANGES =
      List.of(
          STEPS_EXCHANGE,
          STEP_RESULTS_EXCHANGE,
          LLM_CALLS_EXCHANGE,
          WORKFLOW_EVENTS_EXCHANGE,
          BUDGET_EVENTS_EXCHANGE);

  private Topology() {}

  public static String stepRoutingKey(String role) {
    return "step." + role;
  }

  /** The queue a worker serving {@code role} consumes. */
  public static QueueSpec stepQueue(String role) {
    return new QueueSpec(
        "atelier.steps." + role,
        STEPS_EXCHANGE,
        List.of(stepRoutingKey(role)),
        STEPS_DEAD_LETTER_EXCHANGE,
        STEPS_DEAD_LETTER_QUEUE);
  }

  /** For example {@code budget.team.80}. */
  public static String budgetRoutingKey(String scope, int percent) {
    return "budget." + scope + "." + percent;
  }

  public static String workflowStatusRoutingKey(String status) {
    return "workflow." + status;
  }
}
