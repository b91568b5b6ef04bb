package dev.atelier.tracking.service;

import dev.atelier.contracts.WorkflowStatusChanged;
import dev.atelier.tracking.repository.WorkflowRepository;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.jboss.logging.Logger;

/** Keeps each workflow's title, team and latest status from the orchestrator's events. */
@ApplicationScoped
public class WorkflowService {

  private static final Logger LOG = Logger.getLogger(WorkflowService.class);

  private final WorkflowRepository workflows;

  WorkflowService(WorkflowRepository workflows) {
    this.workflows = workflows;
  }

  /**
   * Checks one event before it joins a batch.
   *
   * @throws dev.atelier.contracts.MalformedEventException with the reason when it is not valid
   */
  public static void check(WorkflowStatusChanged event) {
    RecordChecks.check(event);
  }

  /**
   * Applies a batch of status changes in one transaction, each unless a newer one is already
   * recorded, so the batch ends in the state its events would leave one by one: an older event
   * never overwrites a newer one, a repeated one changes nothing. They are written sorted by
   * workflow (then by time, delivery order among equal times), so concurrent batches lock rows in
   * the same order and cannot deadlock.
   *
   * @return how many events changed a stored status
   */
  @Transactional
  public int applyAll(List<WorkflowStatusChanged> events) {
    events.forEach(RecordChecks::check);
    List<WorkflowStatusChanged> ordered = new ArrayList<>(events);
    ordered.sort(
        Comparator.comparing(WorkflowStatusChanged::workflowId)
            .thenComparing(WorkflowStatusChanged::occurredAt));
    int applied = workflows.upsertAll(ordered);
    if (applied < events.size()) {
      LOG.debugf(
          "%d of %d workflow status events ignored: a newer or the same status was recorded",
          events.size() - applied, events.size());
    }
    return applied;
  }
}
