package dev.atelier.orchestrator.messaging;

import dev.atelier.contracts.EventCodec;
import dev.atelier.contracts.Topology;
import dev.atelier.kit.amqp.EncodedEvent;
import dev.atelier.kit.amqp.EventPublisher;
import dev.atelier.kit.amqp.Outgoing;
import dev.atelier.kit.amqp.PublishException;
import dev.atelier.kit.amqp.UnroutableException;
import dev.atelier.kit.tracing.TraceContexts;
import dev.atelier.orchestrator.config.OrchestratorConfig;
import dev.atelier.orchestrator.repository.OutboxRepository;
import dev.atelier.orchestrator.repository.OutboxRepository.Row;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jboss.logging.Logger;

/**
 * Publishes one batch of due outbox rows and deletes them, in one transaction that holds the rows'
 * locks. If the process dies between the broker's confirm and the commit, the rows are published
 * again; consumers deduplicate on the event id.
 */
@ApplicationScoped
public class OutboxPublisher {

  private static final Logger LOG = Logger.getLogger(OutboxPublisher.class);

  private final OutboxRepository outbox;
  private final EventPublisher publisher;
  private final TraceContexts traces;
  private final StepQueues stepQueues;
  private final OrchestratorConfig config;

  OutboxPublisher(
      OutboxRepository outbox,
      EventPublisher publisher,
      TraceContexts traces,
      StepQueues stepQueues,
      OrchestratorConfig config) {
    this.outbox = outbox;
    this.publisher = publisher;
    this.traces = traces;
    this.stepQueues = stepQueues;
    this.config = config;
  }

  /** Publishes up to {@code limit} due rows; returns how many were due. */
  @Transactional
  public int publishDue(int limit) {
    List<Row> rows = outbox.lockDue(limit);
    if (rows.isEmpty()) {
      return 0;
    }
    Map<Row, Outgoing> batch = new LinkedHashMap<>();
    for (Row row : rows) {
      try {
        // Each publish joins the trace of the transaction that wrote the row.
        batch.put(
            row,
            Outgoing.stored(
                row.exchange(),
                row.routingKey(),
                encoded(row),
                traces.extract(row.traceHeaders())));
      } catch (RuntimeException e) {
        LOG.errorf("outbox row %d cannot be read, keeping it aside: %s", row.id(), e.getMessage());
        postpone(row, "unreadable: " + e.getMessage());
      }
    }
    stepQueues.ensureAll(
        batch.keySet().stream()
            .filter(OutboxPublisher::isStep)
            .map(OutboxPublisher::role)
            .toList());
    List<Long> published = new ArrayList<>();
    try {
      publisher.publishAll(List.copyOf(batch.values()));
      batch.keySet().forEach(r -> published.add(r.id()));
    } catch (UnroutableException e) {
      // The broker confirmed the batch and returned only these: the others are on their queues and
      // must not be published again (a step request published twice runs its LLM calls twice).
      for (Map.Entry<Row, Outgoing> entry : batch.entrySet()) {
        Row row = entry.getKey();
        if (!e.returnedEventIds().contains(entry.getValue().encoded().eventId())) {
          published.add(row.id());
          continue;
        }
        String error =
            "unroutable: no queue is bound for " + row.exchange() + ":" + row.routingKey();
        LOG.warnf("outbox row %d not published, will retry: %s", row.id(), error);
        postpone(row, error);
        if (isStep(row)) {
          // Its queue was declared once but is gone (deleted on the broker): declare it again.
          stepQueues.forget(role(row));
        }
      }
    } catch (PublishException e) {
      // The broker itself fails (nack, timeout, connection): the whole batch waits for the next
      // round.
      LOG.warnf("outbox batch of %d not published, will retry: %s", batch.size(), e.getMessage());
      batch.keySet().forEach(row -> postpone(row, e.getMessage()));
    }
    outbox.delete(published);
    return rows.size();
  }

  /**
   * The row's message as stored. Only a row written before bodies were stored is decoded (and
   * encoded again).
   */
  private static EncodedEvent encoded(Row row) {
    if (row.body() != null) {
      return new EncodedEvent(
          row.eventId(), row.workflowId(), row.eventType(), row.occurredAt(), row.body());
    }
    return EncodedEvent.of(EventCodec.read(row.legacyPayload().getBytes(StandardCharsets.UTF_8)));
  }

  private static boolean isStep(Row row) {
    return row.exchange().equals(Topology.STEPS_EXCHANGE);
  }

  /** The role of a step request's routing key {@code step.<role>}. */
  private static String role(Row row) {
    return row.routingKey().substring(row.routingKey().indexOf('.') + 1);
  }

  private void postpone(Row row, String error) {
    Duration base = config.outbox().retryBackoff();
    long factor = 1L << Math.min(row.publishAttempts(), 16);
    Duration wait = base.multipliedBy(factor);
    if (wait.compareTo(config.outbox().retryBackoffMax()) > 0) {
      wait = config.outbox().retryBackoffMax();
    }
    outbox.postpone(row.id(), Instant.now().plus(wait), error);
  }
}
