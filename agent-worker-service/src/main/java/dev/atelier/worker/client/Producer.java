package dev.atelier.worker.client;

import com.fasterxml.jackson.annotation.JsonInclude;

/** Which step attempt and agent wrote an artifact version, as context-service records it. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Producer(
    String stepId, String stepKey, Integer attempt, String agent, Integer agentVersion) {}
