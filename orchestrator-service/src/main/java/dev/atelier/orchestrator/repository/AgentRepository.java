package dev.atelier.orchestrator.repository;

import dev.atelier.orchestrator.model.AgentDefinition;
import jakarta.inject.Singleton;
import java.time.Instant;
import javax.sql.DataSource;

/** Agent definitions (roles), versioned. */
@Singleton
public class AgentRepository extends VersionedStore<AgentDefinition> {

  AgentRepository(DataSource dataSource, JsonColumns json) {
    super(dataSource, json, "agent_definition", AgentDefinition.class);
  }

  @Override
  protected AgentDefinition stamp(
      AgentDefinition definition, String name, int version, Instant createdAt) {
    return definition.stored(name, version, createdAt);
  }
}
