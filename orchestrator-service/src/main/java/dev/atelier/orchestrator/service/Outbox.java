package dev.atelier.orchestrator.service;

import dev.atelier.contracts.AtelierEvent;
import dev.atelier.kit.tracing.TraceContexts;
import dev.atelier.orchestrator.messaging.OutboxRelay;
import dev.atelier.orchestrator.repository.OutboxRepository;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.List;

/**
 * Queues messages in the current transaction: they are published if and only if it commits. Each
 * row remembers the current trace context, so the publish joins the trace of the work that caused
 * it, however late the relay sends it.
 */
@ApplicationScoped
public class Outbox {

  private static final Object WAKE_KEY = new Object();

  private final OutboxRepository repository;
  private final TraceContexts traces;
  private final AfterCommit afterCommit;
  private final OutboxRelay relay;

  Outbox(
      OutboxRepository repository,
      TraceContexts traces,
      AfterCommit afterCommit,
      OutboxRelay relay) {
    this.repository = repository;
    this.traces = traces;
    this.afterCommit = afterCommit;
    this.relay = relay;
  }

  public void add(String exchange, String routingKey, AtelierEvent event) {
    addAll(List.of(new OutboxRepository.Message(exchange, routingKey, event)));
  }

  /** Queues the messages in one round trip to the database. */
  public void addAll(List<OutboxRepository.Message> messages) {
    if (messages.isEmpty()) {
      return;
    }
    repository.insertAll(messages, traces.capture());
    // The relay also polls; waking it right after the commit saves the poll delay.
    afterCommit.runOnce(WAKE_KEY, relay::wake);
  }
}
