package dev.atelier.orchestrator.service;

import dev.atelier.orchestrator.model.StepRun;
import dev.atelier.orchestrator.model.WorkflowRun;
import java.util.List;

/**
 * A workflow with its steps in definition order.
 *
 * @param created false when an idempotent resubmission returned an existing workflow
 */
public record WorkflowDetails(WorkflowRun workflow, List<StepRun> steps, boolean created) {}
