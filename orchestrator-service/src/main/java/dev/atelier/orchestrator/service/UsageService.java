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
    // Per workflow and the team the call was made for: only the workflow's own team's calls count
    // towards it. Another team's key can name any workflow id at the gateway; its calls must not
    // spend this workflow's budget (and stop it as budget_exceeded).
    Map<UUID, Map<String, Usage>> perWorkflow = new TreeMap<>();
    Map<UUID, Map<String, Map<String, Usage>>> perStep = new TreeMap<>();
    for (LlmCallRecorded call : byId.values()) {
      if (!fresh.contains(call.eventId())) {
        continue;
      }
      Usage usage = usageOf(call);
      String team = String.valueOf(call.team());
      perWorkflow
          .computeIfAbsent(call.workflowId(), w -> new TreeMap<>())
          .merge(team, usage, Usage::plus);
      if (call.stepId() != null && !call.stepId().isBlank()) {
        perStep
            .computeIfAbsent(call.workflowId(), w -> new TreeMap<>())
            .computeIfAbsent(team, t -> new TreeMap<>())
            .merge(call.stepId(), usage, Usage::plus);
      }
    }
    for (Map.Entry<UUID, Map<String, Usage>> workflow : perWorkflow.entrySet()) {
      UUID workflowId = workflow.getKey();
      for (Map.Entry<String, Usage> ofTeam : workflow.getValue().entrySet()) {
        String team = ofTeam.getKey();
        if (!workflows.addUsage(workflowId, team, ofTeam.getValue())) {
          LOG.infof(
              "%d LLM calls of team %s name workflow %s, which is unknown or another team's;"
                  + " not counted",
              ofTeam.getValue().calls(), team, workflowId);
          continue;
        }
        Map<String, Usage> ofSteps =
            perStep.getOrDefault(workflowId, Map.of()).getOrDefault(team, Map.of());
        for (Map.Entry<String, Usage> step : ofSteps.entrySet()) {
          if (!steps.addUsage(workflowId, step.getKey(), step.getValue())) {
            LOG.debugf("LLM calls name unknown step %s of %s", step.getKey(), workflowId);
          }
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
