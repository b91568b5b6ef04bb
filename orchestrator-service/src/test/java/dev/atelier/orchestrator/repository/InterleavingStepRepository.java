package dev.atelier.orchestrator.repository;

import dev.atelier.orchestrator.model.StepRun;
import jakarta.annotation.Priority;
import jakarta.enterprise.inject.Alternative;
import jakarta.inject.Singleton;
import java.util.List;
import java.util.UUID;
import javax.sql.DataSource;

/**
 * The step repository, able to run a change of another transaction just before its next read of a
 * workflow's steps: what a concurrent writer does between the two reads of a GET. Inert unless a
 * test sets {@link #beforeNextRead}.
 */
@Alternative
@Priority(1)
@Singleton
public class InterleavingStepRepository extends StepRepository {

  private volatile Runnable beforeNextRead;

  InterleavingStepRepository(DataSource dataSource, JsonColumns json) {
    super(dataSource, json);
  }

  /** Runs {@code change} once, just before the next read of a workflow's steps. */
  public void beforeNextRead(Runnable change) {
    this.beforeNextRead = change;
  }

  @Override
  public List<StepRun> findByWorkflow(UUID workflowId) {
    Runnable change = beforeNextRead;
    if (change != null) {
      beforeNextRead = null;
      change.run();
    }
    return super.findByWorkflow(workflowId);
  }
}
