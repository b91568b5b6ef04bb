package dev.atelier.orchestrator.service;

import dev.atelier.kit.problem.ProblemException;
import dev.atelier.orchestrator.config.OrchestratorConfig;
import dev.atelier.orchestrator.model.ProgressEvent;
import dev.atelier.orchestrator.repository.WorkflowEventRepository;
import dev.atelier.orchestrator.repository.WorkflowRepository;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A workflow's progress as a stream: the stored events after a position, then the new ones as they
 * are logged. It polls the log table, which every replica writes, so a client sees every event
 * whichever replica caused it; the stream ends after the workflow's final event (at once when the
 * client has seen it already), or at a quiet moment after {@code orchestrator.events.max-duration}.
 */
@ApplicationScoped
public class WorkflowProgress {

  private final WorkflowRepository workflows;
  private final WorkflowEventRepository events;
  private final OrchestratorConfig config;

  WorkflowProgress(
      WorkflowRepository workflows, WorkflowEventRepository events, OrchestratorConfig config) {
    this.workflows = workflows;
    this.events = events;
    this.config = config;
  }

  /**
   * The events of workflow {@code id} after {@code lastEventId} (a previous event's id, or null for
   * all). Checks the workflow and the position before the stream starts, so errors are plain
   * problem responses.
   */
  public Multi<ProgressEvent> stream(String id, String lastEventId) {
    UUID workflowId;
    try {
      workflowId = UUID.fromString(id);
    } catch (IllegalArgumentException e) {
      throw ProblemException.notFound("workflow", id);
    }
    long after;
    try {
      after =
          lastEventId == null || lastEventId.isBlank() ? 0 : Long.parseLong(lastEventId.strip());
    } catch (NumberFormatException e) {
      throw ProblemException.badRequest(
          "invalid-last-event-id", "Last-Event-ID must be the id of an event of this stream");
    }
    if (after < 0) {
      throw ProblemException.badRequest(
          "invalid-last-event-id", "Last-Event-ID must be the id of an event of this stream");
    }
    if (workflows.find(workflowId).isEmpty()) {
      throw ProblemException.notFound("workflow", id);
    }
    long last = events.lastSeq(workflowId);
    if (after > last && !events.endedBy(workflowId, after)) {
      // Not an id this stream gave out, while the workflow runs: the stream would stay silent
      // until the log grew past it, and an EventSource reconnecting with it would never show
      // progress. (Past the end of a finished workflow's log, the stream just ends.)
      throw ProblemException.badRequest(
          "invalid-last-event-id",
          "Last-Event-ID " + after + " is past this workflow's last event, " + last);
    }
    int batch = config.events().batchSize();
    Instant deadline = Instant.now().plus(config.events().maxDuration());
    AtomicLong position = new AtomicLong(after);
    AtomicBoolean waitFirst = new AtomicBoolean(false);
    return Multi.createBy()
        .repeating()
        .uni(
            () -> {
              Uni<Poll> read =
                  Uni.createFrom()
                      .item(() -> poll(workflowId, position.get(), batch, deadline))
                      .runSubscriptionOn(Infrastructure.getDefaultWorkerPool());
              // Wait only when the previous read found nothing new.
              Uni<Poll> next =
                  waitFirst.get()
                      ? Uni.createFrom()
                          .voidItem()
                          .onItem()
                          .delayIt()
                          .by(config.events().pollInterval())
                          .chain(() -> read)
                      : read;
              return next.invoke(
                  p -> {
                    waitFirst.set(p.events().isEmpty());
                    if (!p.events().isEmpty()) {
                      position.set(p.events().get(p.events().size() - 1).seq());
                    }
                  });
            })
        .whilst(p -> !p.last())
        .onItem()
        .transformToMultiAndConcatenate(p -> Multi.createFrom().iterable(p.events()));
  }

  /** One look at the log: the events read, and whether the stream ends with them. */
  private record Poll(List<ProgressEvent> events, boolean last) {}

  private Poll poll(UUID workflowId, long after, int batch, Instant deadline) {
    List<ProgressEvent> read = events.after(workflowId, after, batch);
    if (!read.isEmpty()) {
      // The workflow has ended: its final event is the last one logged so far.
      return new Poll(read, read.size() < batch && read.get(read.size() - 1).isFinal());
    }
    // Nothing new. The end when the workflow has ended and the client has seen its final event
    // (an EventSource reconnects with it after every close), or when the stream has been open
    // long enough: the client comes back with Last-Event-ID and misses nothing.
    return new Poll(read, events.endedBy(workflowId, after) || !Instant.now().isBefore(deadline));
  }
}
