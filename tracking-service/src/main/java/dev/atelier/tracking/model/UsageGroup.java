package dev.atelier.tracking.model;

import com.fasterxml.jackson.annotation.JsonUnwrapped;

/**
 * One group of a usage report.
 *
 * @param key the group's value: a workflow id, agent, model..., {@code 2025-01-31} for a day or
 *     {@code 2025-01-31T14:00Z} for an hour; {@code null} for calls that lack the attribute
 */
public record UsageGroup(String key, @JsonUnwrapped UsageFigures usage) {}
