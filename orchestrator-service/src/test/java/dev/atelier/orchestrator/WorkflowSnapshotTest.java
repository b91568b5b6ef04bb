package dev.atelier.orchestrator;

import static dev.atelier.orchestrator.Api.submit;
import static dev.atelier.orchestrator.Api.workflow;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.atelier.orchestrator.model.StepRun;
import dev.atelier.orchestrator.repository.InterleavingStepRepository;
import dev.atelier.orchestrator.repository.StepRepository;
import dev.atelier.orchestrator.repository.WorkflowRepository;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.util.List;
import java.util.UUID;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

/**
 * GET of a workflow reads the workflow and its steps from one snapshot: a change committed between
 * the two reads shows in neither.
 */
@QuarkusTest
class WorkflowSnapshotTest {

  @Inject DataSource dataSource;
  @Inject WorkflowRepository workflows;
  @Inject StepRepository steps;
  @Inject InterleavingStepRepository interleaving;

  /** Changes every step of the workflow in a transaction of its own, committed at once. */
  private void changeStepsMeanwhile(UUID id) {
    QuarkusTransaction.requiringNew()
        .run(
            () ->
                TestDb.update(
                    dataSource,
                    "update workflow_step set summary = 'changed meanwhile' where workflow_id = ?",
                    id));
  }

  @Test
  void readsAfterTheFirstDoNotSeeChangesCommittedSinceIt() {
    UUID id = submit("software-delivery", "Read me in one snapshot");

    List<StepRun> seen =
        QuarkusTransaction.requiringNew()
            .call(
                () -> {
                  workflows.readOneSnapshot();
                  assertThat(workflows.find(id)).isPresent();
                  // Committed by another transaction between the two reads.
                  changeStepsMeanwhile(id);
                  return steps.findByWorkflow(id);
                });

    assertThat(seen).isNotEmpty().noneMatch(s -> "changed meanwhile".equals(s.summary()));
    assertThat(steps.findByWorkflow(id))
        .isNotEmpty()
        .allMatch(s -> "changed meanwhile".equals(s.summary()));
  }

  @Test
  void getOfAWorkflowDoesNotSeeAChangeCommittedBetweenItsReads() {
    UUID id = submit("software-delivery", "Read me through the API in one snapshot");
    interleaving.beforeNextRead(() -> changeStepsMeanwhile(id));

    List<String> summaries = workflow(id).getList("steps.summary", String.class);

    assertThat(summaries).isNotEmpty().doesNotContain("changed meanwhile");
    assertThat(workflow(id).getList("steps.summary", String.class))
        .isNotEmpty()
        .containsOnly("changed meanwhile");
  }

  @Test
  void aSnapshotIsOnlyReadInATransaction() {
    assertThatThrownBy(() -> workflows.readOneSnapshot())
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("a snapshot is read in a transaction");
  }
}
