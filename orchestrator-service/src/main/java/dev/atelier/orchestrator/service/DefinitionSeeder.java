package dev.atelier.orchestrator.service;

import dev.atelier.orchestrator.config.OrchestratorConfig;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.interceptor.Interceptor;

/**
 * Seeds the built-in agent and workflow definitions at start-up, after the database is migrated and
 * before messaging starts. Idempotent, and safe with several replicas starting together.
 */
@ApplicationScoped
public class DefinitionSeeder {

  private final OrchestratorConfig config;
  private final DefinitionCodec codec;
  private final AgentService agents;
  private final WorkflowDefinitionService workflows;

  DefinitionSeeder(
      OrchestratorConfig config,
      DefinitionCodec codec,
      AgentService agents,
      WorkflowDefinitionService workflows) {
    this.config = config;
    this.codec = codec;
    this.agents = agents;
    this.workflows = workflows;
  }

  void onStart(@Observes @Priority(Interceptor.Priority.APPLICATION) StartupEvent event) {
    // Roles first: workflow definitions are validated against them.
    for (String name : config.seed().agents()) {
      agents.seed(name, codec.agent(codec.resource("definitions/agents/" + name + ".yaml")));
    }
    for (String name : config.seed().workflows()) {
      workflows.seed(
          name, codec.workflow(codec.resource("definitions/workflows/" + name + ".yaml")));
    }
  }
}
