package dev.atelier.orchestrator.repository;

import dev.atelier.orchestrator.model.WorkflowDefinition;
import jakarta.inject.Singleton;
import java.time.Instant;
import javax.sql.DataSource;

/** Workflow definitions, versioned. */
@Singleton
public class WorkflowDefinitionRepository extends VersionedStore<WorkflowDefinition> {

  WorkflowDefinitionRepository(DataSource dataSource, JsonColumns json) {
    super(dataSource, json, "workflow_definition", WorkflowDefinition.class);
  }

  @Override
  protected WorkflowDefinition stamp(
      WorkflowDefinition definition, String name, int version, Instant createdAt) {
    return definition.stored(name, version, createdAt);
  }
}
