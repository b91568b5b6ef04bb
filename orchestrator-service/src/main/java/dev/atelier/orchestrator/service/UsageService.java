package dev.atelier.orchestrator.service;

import dev.atelier.contracts.LlmCallRecorded;
import dev.atelier.orchestrator.model.Usage;
import dev.atelier.orchestrator.repository.ProcessedEventRepository;
import dev.atelier.orchestrator.repository.StepRepository;
import dev.atelier.orchestrator.repository.WorkflowRepository;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;
import java.math.BigDecimal;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
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

  /**
   * Adds a batch of call records to their workflows' and steps' totals in one transaction. Each
   * record counts once: an id processed before (a redelivery, a re-publish) or seen earlier in the
   * batch adds nothing. The batch's calls are summed first, so a workflow's row and each of its
   * steps' rows are updated once per batch rather than once per call. Workflows are updated in id
   * order, each workflow's row before its steps' rows (the lock order of result handling), so
   * concurrent batches and result handlers cannot deadlock.
   */
  @Transactional
  public void recordAll(List<LlmCallRecorded> calls) {
    Map<UUID, LlmCallRecorded> byId = new TreeMap<>();
    for (LlmCallRecorded call : calls) {
      if (call.workflowId() != null) {
        byId.putIfAbsent(call.eventId(), call);
      }
    }
    if (byId.isEmpty()) {
      return;
    }
    Set<UUID> fresh = processed.markProcessedAll(byId.keySet());
    Map<UUID, Usage> perWorkflow = new TreeMap<>();
    Map<UUID, Map<String, Usage>> perStep = new TreeMap<>();
    for (LlmCallRecorded call : byId.values()) {
      if (!fresh.contains(call.eventId())) {
        continue;
      }
      Usage usage = usageOf(call);
      perWorkflow.merge(call.workflowId(), usage, Usage::plus);
      if (call.stepId() != null && !call.stepId().isBlank()) {
        perStep
            .computeIfAbsent(call.workflowId(), w -> new TreeMap<>())
            .merge(call.stepId(), usage, Usage::plus);
      }
    }
    for (Map.Entry<UUID, Usage> workflow : perWorkflow.entrySet()) {
      UUID workflowId = workflow.getKey();
      if (!workflows.addUsage(workflowId, workflow.getValue())) {
        LOG.debugf(
            "%d LLM calls name unknown workflow %s", workflow.getValue().calls(), workflowId);
        continue;
      }
      for (Map.Entry<String, Usage> step : perStep.getOrDefault(workflowId, Map.of()).entrySet()) {
        if (!steps.addUsage(workflowId, step.getKey(), step.getValue())) {
          LOG.debugf("LLM calls name unknown step %s of %s", step.getKey(), workflowId);
        }
      }
    }
  }

  private static Usage usageOf(LlmCallRecorded call) {
    boolean priced = call.costUsd() != null;
    return new Usage(
        1,
        call.inputTokens(),
        call.cachedInputTokens(),
        call.outputTokens(),
        priced ? call.costUsd() : BigDecimal.ZERO,
        priced ? 0 : 1);
  }
}
