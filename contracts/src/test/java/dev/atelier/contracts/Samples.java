package dev.atelier.contracts;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** One valid instance of every event, with every optional field set. */
final class Samples {

  static final UUID WORKFLOW = UUID.fromString("6f1c7a52-8d0e-4b8e-9a55-0f4a2a1e9c31");
  static final UUID STEP = UUID.fromString("0b7e4c1d-5f3a-4a7b-8e2c-9d1f6a3b5c7e");
  static final Instant AT = Instant.parse("2026-11-22T10:15:30.123456Z");

  private Samples() {}

  static AgentSpec agent() {
    ObjectNode schema = JsonNodeFactory.instance.objectNode();
    schema.put("type", "object");
    schema.putObject("properties").putObject("summary").put("type", "string");
    return new AgentSpec(
        "architect",
        3,
        "You are a software architect.",
        "Design for: {{requirement}}\n{{input:analysis}}",
        "architecture",
        schema,
        "gpt-4o-mini",
        List.of("gpt-4o"),
        new BigDecimal("0.2"),
        4096);
  }

  static StepRequested stepRequested() {
    return new StepRequested(
        UUID.randomUUID(),
        StepRequested.TYPE,
        AT,
        WORKFLOW,
        STEP,
        "design",
        2,
        agent(),
        "Customers can track their orders.",
        List.of(new ArtifactRef("analysis", 1)),
        AT.plusSeconds(600),
        new BigDecimal("4.250000"),
        new BigDecimal("5.00"),
        "consider the reviewer's findings",
        Map.of("ticket", "ATL-1"));
  }

  static StepCompleted stepCompleted() {
    return new StepCompleted(
        UUID.randomUUID(),
        StepCompleted.TYPE,
        AT,
        WORKFLOW,
        STEP,
        "review",
        "reviewer",
        1,
        List.of(ArtifactRef.parse("review@1"), ArtifactRef.parse("review.md@1")),
        "approved",
        "2 findings, approved",
        AT.minusSeconds(3));
  }

  static StepFailed stepFailed() {
    return new StepFailed(
        UUID.randomUUID(),
        StepFailed.TYPE,
        AT,
        WORKFLOW,
        STEP,
        "implement",
        "developer",
        3,
        "output_invalid",
        "$.files: required property missing",
        false,
        AT.minusSeconds(9),
        null);
  }

  /** A step a team budget stopped: the failure names the budget's scope. */
  static StepFailed stepFailedByBudget() {
    return new StepFailed(
        UUID.randomUUID(),
        StepFailed.TYPE,
        AT,
        WORKFLOW,
        STEP,
        "design",
        "architect",
        1,
        StepFailed.BUDGET_EXCEEDED,
        "The team budget 'research' (total) of 5 USD is exhausted",
        false,
        AT.minusSeconds(2),
        StepFailed.BUDGET_SCOPE_TEAM);
  }

  static LlmCallRecorded llmCall() {
    return new LlmCallRecorded(
        UUID.randomUUID(),
        LlmCallRecorded.TYPE,
        AT,
        WORKFLOW,
        STEP.toString(),
        "architect",
        WORKFLOW + ":design",
        "payments",
        "chat",
        "simulated",
        "gpt-4o-mini",
        "gpt-4o-mini-2024-07-18",
        LlmCallRecorded.STATUS_OK,
        null,
        true,
        1200,
        1024,
        350,
        64,
        LlmCallRecorded.USAGE_PROVIDER,
        new BigDecimal("0.000000000123456789"),
        "openai-2026-10-01",
        AT.minusMillis(812),
        812,
        95L,
        true,
        "4bf92f3577b34da6a3ce929d0e0e4736",
        "00f067aa0ba902b7",
        "openai/gpt-4o-mini>simulated/gpt-4o-mini");
  }

  static WorkflowStatusChanged workflowStatusChanged() {
    return new WorkflowStatusChanged(
        UUID.randomUUID(),
        WorkflowStatusChanged.TYPE,
        AT,
        WORKFLOW,
        "software-delivery",
        1,
        "Order tracking",
        "payments",
        "completed",
        "running",
        null);
  }

  static BudgetThresholdCrossed budgetThresholdCrossed() {
    UUID budget = UUID.fromString("5f1c1d3e-7a8b-4c2d-9e0f-a1b2c3d4e5f6");
    Instant periodStart = Instant.parse("2026-11-01T00:00:00Z");
    return new BudgetThresholdCrossed(
        BudgetThresholdCrossed.eventIdFor(budget, periodStart, 80),
        BudgetThresholdCrossed.TYPE,
        AT,
        null,
        budget,
        "team",
        "payments",
        "month",
        periodStart,
        80,
        new BigDecimal("100.00"),
        new BigDecimal("80.000123"),
        true);
  }

  static List<AtelierEvent> all() {
    return List.of(
        stepRequested(),
        stepCompleted(),
        stepFailed(),
        stepFailedByBudget(),
        llmCall(),
        workflowStatusChanged(),
        budgetThresholdCrossed());
  }
}
