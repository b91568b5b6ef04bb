package dev.atelier.tracking.model;

import java.time.Instant;
import java.util.UUID;

/** What the ledger last learned about a workflow from its status events. */
public record WorkflowInfo(
    UUID workflowId,
    String definition,
    Integer definitionVersion,
    String title,
    String team,
    String status,
    Instant statusChangedAt) {}
