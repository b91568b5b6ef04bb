package dev.atelier.tracking.model;

import java.util.List;
import java.util.UUID;

/**
 * Everything a workflow's usage panel shows: totals, then per step and per agent in the order their
 * first call happened (pipeline order). Title, team and status are {@code null} until the
 * workflow's first status event has arrived.
 *
 * @param source {@code raw}, or {@code rollup-hourly} when retention has dropped some of the
 *     workflow's raw calls: totals and agents then come from the hourly rollup (latency percentiles
 *     none, agents' first and last calls to the hour) and there is no per-step usage
 */
public record WorkflowUsage(
    UUID workflowId,
    String title,
    String definition,
    String team,
    String status,
    String source,
    UsageFigures totals,
    List<StepUsage> byStep,
    List<AgentUsage> byAgent) {}
