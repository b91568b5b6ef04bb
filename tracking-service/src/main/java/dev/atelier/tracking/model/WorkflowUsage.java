package dev.atelier.tracking.model;

import java.util.List;
import java.util.UUID;

/**
 * Everything a workflow's usage panel shows: totals, then per step and per agent in the order their
 * first call happened (pipeline order). Title, team and status are {@code null} until the
 * workflow's first status event has arrived.
 */
public record WorkflowUsage(
    UUID workflowId,
    String title,
    String definition,
    String team,
    String status,
    UsageFigures totals,
    List<StepUsage> byStep,
    List<AgentUsage> byAgent) {}
