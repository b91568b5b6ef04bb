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
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A workflow's progress as a stream: the stored events after a position, then the new ones as they
 * are logged. It polls the log table, which every replica writes, so a client sees every event
 * whichever replica caused it; the stream ends after the workflow's final event.
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
    int batch = config.events().batchSize();
    AtomicLong position = new AtomicLong(after);
    AtomicBoolean waitFirst = new AtomicBoolean(false);
    return Multi.createBy()
        .repeating()
        .uni(
            () -> {
              Uni<List<ProgressEvent>> read =
                  Uni.createFrom()
                      .item(() -> events.after(workflowId, position.get(), batch))
                      .runSubscriptionOn(Infrastructure.getDefaultWorkerPool());
              // Wait only when the previous read found nothing new.
              Uni<List<ProgressEvent>> next =
                  waitFirst.get()
                      ? Uni.createFrom()
                          .voidItem()
                          .onItem()
                          .delayIt()
                          .by(config.events().pollInterval())
                          .chain(() -> read)
                      : read;
              return next.invoke(
                  list -> {
                    waitFirst.set(list.isEmpty());
                    if (!list.isEmpty()) {
                      position.set(list.get(list.size() - 1).seq());
                    }
                  });
            })
        // Until the workflow has ended: its final event is the last one logged so far.
        .whilst(
            list -> list.size() == batch || list.isEmpty() || !list.get(list.size() - 1).isFinal())
        .onItem()
        .transformToMultiAndConcatenate(list -> Multi.createFrom().iterable(list));
  }
}
