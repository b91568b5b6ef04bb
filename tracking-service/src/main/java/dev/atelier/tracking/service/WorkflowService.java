package dev.atelier.tracking.service;

import dev.atelier.contracts.EventChecks;
import dev.atelier.contracts.WorkflowStatusChanged;
import dev.atelier.tracking.repository.WorkflowRepository;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;
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
   * Applies a status change unless a newer one is already recorded; applying the same event again
   * changes nothing.
   *
   * @return true when the stored status changed
   */
  @Transactional
  public boolean apply(WorkflowStatusChanged event) {
    EventChecks.check(event);
    boolean applied = workflows.upsert(event);
    if (!applied) {
      LOG.debugf(
          "workflow %s: ignored %s of %s, a newer or the same status is recorded",
          event.workflowId(), event.status(), event.occurredAt());
    }
    return applied;
  }
}
