package dev.atelier.tracking.model;

import com.fasterxml.jackson.annotation.JsonUnwrapped;
import java.time.Instant;

/** Usage of one step of a workflow (calls made outside any step have a {@code null} step id). */
public record StepUsage(
    String stepId,
    String agent,
    Instant firstCallAt,
    Instant lastCallAt,
    @JsonUnwrapped UsageFigures usage) {}
