package dev.atelier.tracking.messaging;

import dev.atelier.contracts.LlmCallRecorded;
import dev.atelier.contracts.Topology;
import dev.atelier.contracts.WorkflowStatusChanged;
import dev.atelier.kit.amqp.EventConsumers;
import dev.atelier.tracking.config.TrackingConfig;
import dev.atelier.tracking.service.LedgerService;
import dev.atelier.tracking.service.PartitionMaintenance;
import dev.atelier.tracking.service.WorkflowService;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

/**
 * Starts consuming the ledger's two queues once the database is migrated and the current partitions
 * exist. service-kit declares the queues, acknowledges after the handler returns, dead-letters
 * malformed or invalid records with the reason, and redelivers on other failures; the handlers are
 * idempotent on the event id, so a redelivery is harmless.
 */
@ApplicationScoped
public class IngestConsumers {

  private final EventConsumers consumers;
  private final LedgerService ledger;
  private final WorkflowService workflows;
  private final TrackingConfig config;

  IngestConsumers(
      EventConsumers consumers,
      LedgerService ledger,
      WorkflowService workflows,
      TrackingConfig config) {
    this.consumers = consumers;
    this.ledger = ledger;
    this.workflows = workflows;
    this.config = config;
  }

  void onStart(
      @Observes @Priority(PartitionMaintenance.STARTUP_PRIORITY + 100) StartupEvent event) {
    consumers.consume(
        Topology.TRACKING_LLM_CALLS,
        LlmCallRecorded.class,
        config.ingest().prefetch(),
        config.ingest().concurrency(),
        (record, delivery) -> ledger.record(record));
    consumers.consume(
        Topology.TRACKING_WORKFLOW_EVENTS,
        WorkflowStatusChanged.class,
        config.ingest().workflowPrefetch(),
        1,
        (change, delivery) -> workflows.apply(change));
  }
}
