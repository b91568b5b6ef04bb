package dev.atelier.contracts;

/** HTTP and AMQP header names. */
public final class Headers {

  /** W3C trace context, in AMQP headers and HTTP. */
  public static final String TRACEPARENT = "traceparent";

  public static final String TRACESTATE = "tracestate";
  public static final String BAGGAGE = "baggage";

  /** The event's versioned type, duplicated from the body so consumers can route before parsing. */
  public static final String EVENT_TYPE = "x-atelier-event-type";

  /**
   * Set on a dead-lettered message by the consumer that rejected it: why it could not be processed.
   */
  public static final String DEAD_LETTER_REASON = "x-atelier-dead-letter-reason";

  /** Attribution of an LLM call to a workflow, step, agent and conversation (gateway requests). */
  public static final String WORKFLOW_ID = "X-Atelier-Workflow-Id";

  public static final String STEP_ID = "X-Atelier-Step-Id";
  public static final String AGENT = "X-Atelier-Agent";
  public static final String CONVERSATION_ID = "X-Atelier-Conversation-Id";

  /**
   * The whole budget in USD of the workflow a gateway call belongs to (a decimal such as {@code
   * 2.50}). The gateway creates the workflow's hard budget from it on first sight and enforces it
   * across replicas; a later call carrying a different value changes the limit (a user raised the
   * budget to resume a workflow stopped by it).
   */
  public static final String WORKFLOW_BUDGET_USD = "X-Atelier-Workflow-Budget-Usd";

  /**
   * The team a gateway call is made for, when the caller's gateway key is a service key (team
   * {@code *}, the agent workers' key) that acts for many teams; a team's own key is its team.
   */
  public static final String TEAM = "X-Atelier-Team";

  /** Idempotency key of a retried write (context-service artifact writes, workflow submission). */
  public static final String IDEMPOTENCY_KEY = "Idempotency-Key";

  private Headers() {}
}
