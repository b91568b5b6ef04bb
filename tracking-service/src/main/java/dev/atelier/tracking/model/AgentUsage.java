package dev.atelier.tracking.model;

import com.fasterxml.jackson.annotation.JsonUnwrapped;
import java.time.Instant;

/** Usage of one agent (role) within a workflow, over all its steps. */
public record AgentUsage(
    String agent, Instant firstCallAt, Instant lastCallAt, @JsonUnwrapped UsageFigures usage) {}
