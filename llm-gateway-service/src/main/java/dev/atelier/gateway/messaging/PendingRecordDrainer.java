package dev.atelier.gateway.messaging;

import dev.atelier.kit.amqp.EventPublisher;
import dev.atelier.kit.amqp.Outgoing;
import dev.atelier.kit.amqp.PublishException;
import dev.atelier.kit.amqp.UnroutableException;
import dev.atelier.kit.tracing.TraceContexts;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;

/**
 * Publishes the outbox: spooled LLM-call records and budget threshold events. Rows are locked while
 * their publish is confirmed and deleted in the same transaction, so two replicas never publish the
 * same row at once; a crash between confirm and commit republishes a record, which consumers
 * deduplicate on its event id.
 */
@ApplicationScoped
public class PendingRecordDrainer {

  private final PendingRecordRepository repository;
  private final EventPublisher publisher;
  private final TraceContexts traces;

  PendingRecordDrainer(
      PendingRecordRepository repository, EventPublisher publisher, TraceContexts traces) {
    this.repository = repository;
    this.publisher = publisher;
    this.traces = traces;
  }

  /**
   * Publishes up to {@code limit} of the oldest spooled events.
   *
   * @return how many were published; 0 when the spool is empty or the broker refused them
   */
  @Transactional
  public int drainOnce(int limit) {
    try {
      List<PendingRecordRepository.Pending> batch = repository.lockOldest(limit);
      if (batch.isEmpty()) {
        return 0;
      }
      List<UUID> ids = batch.stream().map(p -> p.event().eventId()).toList();
      try {
        publisher.publishAll(
            batch.stream()
                .map(
                    p ->
                        new Outgoing(
                            p.exchange(),
                            p.routingKey(),
                            p.event(),
                            traces.extract(p.traceHeaders())))
                .toList());
      } catch (UnroutableException e) {
        // Confirmed but some came back (no queue bound for them, e.g. a deleted queue): the rest
        // are on their queues and leave the spool; only those that came back are kept. Keeping the
        // whole batch would publish its routable events again at every round.
        Map<Boolean, List<UUID>> returned =
            ids.stream().collect(Collectors.partitioningBy(e.returnedEventIds()::contains));
        List<UUID> delivered = returned.get(false);
        repository.markFailed(returned.get(true), e.getMessage());
        if (!delivered.isEmpty()) {
          repository.delete(delivered);
        }
        return delivered.size();
      } catch (PublishException e) {
        // Keep the rows (committed with their attempt count) for the next round.
        repository.markFailed(ids, e.getMessage());
        return 0;
      }
      repository.delete(ids);
      return batch.size();
    } catch (SQLException e) {
      throw new IllegalStateException("cannot read the record spool: " + e.getMessage(), e);
    }
  }
}
