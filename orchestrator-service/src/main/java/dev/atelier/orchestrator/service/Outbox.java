package dev.atelier.orchestrator.service;

import dev.atelier.contracts.AtelierEvent;
import dev.atelier.kit.tracing.TraceContexts;
import dev.atelier.orchestrator.config.OrchestratorConfig;
import dev.atelier.orchestrator.messaging.OutboxRelay;
import dev.atelier.orchestrator.messaging.OutboxRelay.HandedOff;
import dev.atelier.orchestrator.repository.OutboxRepository;
import dev.atelier.orchestrator.repository.OutboxRepository.Written;
import io.opentelemetry.context.Context;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.List;
import java.util.UUID;

/**
 * Queues messages in the current transaction: they are published if and only if it commits. Each
 * row remembers the current trace context, so the publish joins the trace of the work that caused
 * it, however late the relay sends it.
 *
 * <p>Once the transaction commits, its rows are handed to this process's relay in memory, which
 * publishes them without reading them back. The database copy is what makes them safe: a poll
 * publishes a row the hand-off did not (the process died, the broker refused it) once its hand-off
 * grace has passed.
 */
@ApplicationScoped
public class Outbox {

  private static final Object HANDOFF_KEY = new Object();
  private static final Object WAKE_KEY = new Object();

  private final OutboxRepository repository;
  private final TraceContexts traces;
  private final AfterCommit afterCommit;
  private final OutboxRelay relay;
  private final Duration handoffGrace;

  Outbox(
      OutboxRepository repository,
      TraceContexts traces,
      AfterCommit afterCommit,
      OutboxRelay relay,
      OrchestratorConfig config) {
    this.repository = repository;
    this.traces = traces;
    this.afterCommit = afterCommit;
    this.relay = relay;
    this.handoffGrace = config.outbox().handoffGrace();
  }

  public void add(String exchange, String routingKey, AtelierEvent event) {
    addAll(List.of(new OutboxRepository.Message(exchange, routingKey, event)));
  }

  /** Queues the messages in one round trip to the database. */
  public void addAll(List<OutboxRepository.Message> messages) {
    if (messages.isEmpty()) {
      return;
    }
    List<Written> written = repository.insertAll(messages, traces.capture(), handoffGrace);
    if (handoffGrace.isZero()) {
      // No hand-off: the relay also polls; waking it right after the commit saves the poll delay.
      afterCommit.runOnce(WAKE_KEY, relay::wake);
      return;
    }
    Context context = Context.current();
    List<HandedOff> handed = written.stream().map(w -> new HandedOff(w, context)).toList();
    List<HandedOff> pending = afterCommit.collect(HANDOFF_KEY, relay::handOff);
    if (pending == null) {
      relay.handOff(handed);
    } else {
      pending.addAll(handed);
    }
  }

  /**
   * Deletes the workflow's step requests not yet sent, in the current transaction, and forgets
   * those handed to the relay and not yet taken by it. Returns how many rows were deleted. A
   * request the relay is publishing at this moment still goes out; its result will be ignored.
   */
  public int dropUnsent(UUID workflowId, String eventType) {
    relay.forget(workflowId, eventType);
    return repository.deleteUnsent(workflowId, eventType);
  }
}
