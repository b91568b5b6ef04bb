package dev.atelier.orchestrator.service;

import dev.atelier.contracts.AtelierEvent;
import dev.atelier.kit.tracing.TraceContexts;
import dev.atelier.orchestrator.messaging.OutboxRelay;
import dev.atelier.orchestrator.model.Transition;
import dev.atelier.orchestrator.repository.OutboxRepository;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.jboss.logging.Logger;

/**
 * Queues messages in the current transaction: they are published if and only if it commits. Each
 * row remembers the current trace context, so the publish joins the trace of the work that caused
 * it, however late the relay sends it.
 */
@ApplicationScoped
public class Outbox {

  private static final Logger LOG = Logger.getLogger(Outbox.class);
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

  /**
   * Drops the unsent requests of attempts the transition superseded (cancelled, sent back, timed
   * out) in the current transaction, so they are never published.
   */
  public void withdraw(UUID workflowId, List<Transition.StepAttempt> attempts) {
    if (attempts.isEmpty()) {
      return;
    }
    Map<UUID, Integer> upTo = new HashMap<>();
    attempts.forEach(a -> upTo.merge(a.stepId(), a.attempt(), Math::max));
    int n = repository.deleteUnsentRequests(workflowId, upTo);
    if (n > 0) {
      LOG.infof(
          "workflow %s: %d unsent step request(s) of superseded attempts dropped", workflowId, n);
    }
  }

  /**
   * Moves the deadline of the request of this attempt of a step, if it is still waiting for the
   * broker; says whether it was.
   */
  public boolean postponeUnsent(UUID workflowId, UUID stepId, int attempt, Instant deadline) {
    return repository.postponeUnsentRequest(workflowId, stepId, attempt, deadline);
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
