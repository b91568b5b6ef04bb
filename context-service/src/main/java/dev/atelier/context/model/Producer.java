package dev.atelier.context.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import jakarta.validation.constraints.Positive;
import jakarta.validation.constraints.Size;

/**
 * Which step attempt and agent wrote an artifact version. Informational: context-service does not
 * check it against the orchestrator.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Producer(
    @Size(max = 100) String stepId,
    @Size(max = 100) String stepKey,
    @Positive Integer attempt,
    @Size(max = 100) String agent,
    @Positive Integer agentVersion) {}
