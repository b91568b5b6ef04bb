package dev.atelier.orchestrator.messaging;

import dev.atelier.contracts.AtelierEvent;
import dev.atelier.contracts.EventChecks;
import dev.atelier.contracts.LlmCallRecorded;
import dev.atelier.contracts.Topology;
import dev.atelier.kit.amqp.BatchConsumers;
import dev.atelier.kit.amqp.EventConsumers;
import dev.atelier.kit.amqp.RabbitBroker;
import dev.atelier.orchestrator.config.OrchestratorConfig;
import dev.atelier.orchestrator.service.AgentService;
import dev.atelier.orchestrator.service.ResultService;
import dev.atelier.orchestrator.service.StepScheduler;
import dev.atelier.orchestrator.service.UsageService;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.interceptor.Interceptor;

/**
 * Declares the queues the orchestrator publishes to and consumes, then starts the consumers, the
 * outbox relay and the scheduler — after the definitions are seeded.
 */
@ApplicationScoped
public class MessagingStartup {

  private final RabbitBroker broker;
  private final EventConsumers consumers;
  private final BatchConsumers batchConsumers;
  private final StepQueues stepQueues;
  private final AgentService agents;
  private final ResultService results;
  private final UsageService usage;
  private final OutboxRelay relay;
  private final StepScheduler scheduler;
  private final OrchestratorConfig config;

  MessagingStartup(
      RabbitBroker broker,
      EventConsumers consumers,
      BatchConsumers batchConsumers,
      StepQueues stepQueues,
      AgentService agents,
      ResultService results,
      UsageService usage,
      OutboxRelay relay,
      StepScheduler scheduler,
      OrchestratorConfig config) {
    this.broker = broker;
    this.consumers = consumers;
    this.batchConsumers = batchConsumers;
    this.stepQueues = stepQueues;
    this.agents = agents;
    this.results = results;
    this.usage = usage;
    this.relay = relay;
    this.scheduler = scheduler;
    this.config = config;
  }

  void onStart(@Observes @Priority(Interceptor.Priority.APPLICATION + 100) StartupEvent event) {
    stepQueues.ensureAll(agents.names());
    // Status events must not be lost while tracking-service is down: its queue holds them.
    broker.declare(Topology.TRACKING_WORKFLOW_EVENTS);
    OrchestratorConfig.Consumers c = config.consumers();
    consumers.consume(
        Topology.ORCHESTRATOR_RESULTS,
        AtelierEvent.class,
        c.resultsPrefetch(),
        c.resultsConcurrency(),
        (e, delivery) -> results.handle(e));
    // Usage totals are not on any step's critical path: batches cost one transaction for many
    // calls. Each record gets the ledger's own check before it joins a batch: one the ledger
    // refuses must not count here either, nor fail its batch's good records.
    batchConsumers.consume(
        Topology.ORCHESTRATOR_LLM_CALLS,
        LlmCallRecorded.class,
        new BatchConsumers.Options(
            c.llmCallsBatchSize(),
            c.llmCallsBatchWait(),
            Math.max(c.llmCallsPrefetch(), 2 * c.llmCallsBatchSize()),
            c.llmCallsConcurrency()),
        EventChecks::check,
        usage::recordAll);
    relay.start();
    scheduler.start();
  }
}
