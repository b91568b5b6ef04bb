package dev.atelier.tracking.messaging;

import dev.atelier.contracts.BudgetThresholdCrossed;
import dev.atelier.contracts.EventChecks;
import dev.atelier.contracts.LlmCallRecorded;
import dev.atelier.contracts.Topology;
import dev.atelier.contracts.WorkflowStatusChanged;
import dev.atelier.kit.amqp.BatchConsumers;
import dev.atelier.kit.amqp.EventConsumers;
import dev.atelier.tracking.config.TrackingConfig;
import dev.atelier.tracking.service.BudgetEventService;
import dev.atelier.tracking.service.LedgerService;
import dev.atelier.tracking.service.PartitionMaintenance;
import dev.atelier.tracking.service.WorkflowService;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

/**
 * Starts consuming the ledger's three queues once the database is migrated and the current
 * partitions exist. LLM-call records are consumed in batches (service-kit's BatchConsumers): a
 * batch is stored in one transaction and acknowledged as a whole after the commit; a malformed or
 * invalid record is dead-lettered alone with the reason; a failed batch is stored again record by
 * record, so one the database refuses is dead-lettered (on its second failure) without the others.
 * The handlers are idempotent on the event id, so a redelivery is harmless.
 */
@ApplicationScoped
public class IngestConsumers {

  private final EventConsumers consumers;
  private final BatchConsumers batchConsumers;
  private final LedgerService ledger;
  private final WorkflowService workflows;
  private final BudgetEventService budgetEvents;
  private final TrackingConfig config;

  IngestConsumers(
      EventConsumers consumers,
      BatchConsumers batchConsumers,
      LedgerService ledger,
      WorkflowService workflows,
      BudgetEventService budgetEvents,
      TrackingConfig config) {
    this.consumers = consumers;
    this.batchConsumers = batchConsumers;
    this.ledger = ledger;
    this.workflows = workflows;
    this.budgetEvents = budgetEvents;
    this.config = config;
  }

  void onStart(
      @Observes @Priority(PartitionMaintenance.STARTUP_PRIORITY + 100) StartupEvent event) {
    // Batches: one transaction and one multi-row insert per batch, acknowledged together after the
    // commit. Each record is checked on arrival, so an invalid one is dead-lettered alone.
    batchConsumers.consume(
        Topology.TRACKING_LLM_CALLS,
        LlmCallRecorded.class,
        new BatchConsumers.Options(
            config.ingest().batchSize(),
            config.ingest().batchWait(),
            Math.max(config.ingest().prefetch(), config.ingest().batchSize()),
            config.ingest().concurrency()),
        EventChecks::check,
        ledger::recordAll);
    consumers.consume(
        Topology.TRACKING_WORKFLOW_EVENTS,
        WorkflowStatusChanged.class,
        config.ingest().workflowPrefetch(),
        1,
        (change, delivery) -> workflows.apply(change));
    // Budget crossings are rare (at most three per budget and period): one by one is plenty.
    consumers.consume(
        Topology.TRACKING_BUDGET_EVENTS,
        BudgetThresholdCrossed.class,
        config.ingest().workflowPrefetch(),
        1,
        (crossing, delivery) -> budgetEvents.record(crossing));
  }
}
