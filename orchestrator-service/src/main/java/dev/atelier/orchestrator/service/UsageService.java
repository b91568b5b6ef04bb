package dev.atelier.orchestrator.service;

import dev.atelier.contracts.LlmCallRecorded;
import dev.atelier.orchestrator.repository.ProcessedEventRepository;
import dev.atelier.orchestrator.repository.StepRepository;
import dev.atelier.orchestrator.repository.WorkflowRepository;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;
import org.jboss.logging.Logger;

/**
 * Keeps per-workflow and per-step LLM usage from the gateway's call records — the same records the
 * ledger stores, each counted once.
 */
@ApplicationScoped
public class UsageService {

  private static final Logger LOG = Logger.getLogger(UsageService.class);

  private final ProcessedEventRepository processed;
  private final WorkflowRepository workflows;
  private final StepRepository steps;

  UsageService(
      ProcessedEventRepository processed, WorkflowRepository workflows, StepRepository steps) {
    this.processed = processed;
    this.workflows = workflows;
    this.steps = steps;
  }

  @Transactional
  public void record(LlmCallRecorded call) {
    if (call.workflowId() == null || !processed.markProcessed(call.eventId())) {
      return;
    }
    // Workflow row first, then step row: the same lock order as result handling.
    if (!workflows.addUsage(call.workflowId(), call)) {
      LOG.debugf("LLM call %s names unknown workflow %s", call.eventId(), call.workflowId());
      return;
    }
    if (call.stepId() != null
        && !call.stepId().isBlank()
        && !steps.addUsage(call.workflowId(), call.stepId(), call)) {
      LOG.debugf("LLM call %s names unknown step %s", call.eventId(), call.stepId());
    }
  }
}
