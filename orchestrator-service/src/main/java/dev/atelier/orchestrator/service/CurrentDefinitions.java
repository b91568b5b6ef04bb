package dev.atelier.orchestrator.service;

import dev.atelier.orchestrator.model.AgentDefinition;
import dev.atelier.orchestrator.model.StepDefinition;
import dev.atelier.orchestrator.model.WorkflowDefinition;
import dev.atelier.orchestrator.repository.AgentRepository;
import dev.atelier.orchestrator.repository.DefinitionHeads;
import dev.atelier.orchestrator.repository.DefinitionHeads.Head;
import dev.atelier.orchestrator.repository.DefinitionHeads.Heads;
import dev.atelier.orchestrator.repository.WorkflowDefinitionRepository;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What a submission runs with: the current version of a workflow definition and of each role it
 * uses. Which versions are current is read from the database on every call (another replica may
 * have just changed one), in one small query; the versions' bodies come from the stores' caches,
 * since a version never changes once written.
 */
@ApplicationScoped
class CurrentDefinitions {

  /**
   * @param agents the current version of each role the definition uses; a role that has none (it
   *     was retired) is absent
   */
  record Resolved(WorkflowDefinition definition, Map<String, AgentDefinition> agents) {}

  private final DefinitionHeads heads;
  private final WorkflowDefinitionRepository definitions;
  private final AgentRepository agents;
  // The roles the current version of each definition used last time: asked for with the
  // definition's own version, so the usual submission needs a single query.
  private final Map<String, List<String>> rolesOf = new ConcurrentHashMap<>();

  CurrentDefinitions(
      DefinitionHeads heads, WorkflowDefinitionRepository definitions, AgentRepository agents) {
    this.heads = heads;
    this.definitions = definitions;
    this.agents = agents;
  }

  /**
   * The definition's current version and its roles', or empty when it has none (unknown, retired).
   */
  Optional<Resolved> resolve(String name) {
    Heads found = heads.find(name, rolesOf.getOrDefault(name, List.of()));
    Head head = found.workflow();
    if (head == null || head.retired()) {
      return Optional.empty();
    }
    WorkflowDefinition definition =
        definitions
            .find(name, head.version())
            .orElseThrow(() -> new IllegalStateException("definition " + name + " vanished"));
    List<String> roles = definition.steps().stream().map(StepDefinition::role).distinct().toList();
    rolesOf.put(name, roles);
    Map<String, Head> agentHeads = new HashMap<>(found.agents());
    List<String> unasked = roles.stream().filter(r -> !found.agents().containsKey(r)).toList();
    if (!unasked.isEmpty()) {
      // A role new to this version (or one that does not exist): one more query.
      agentHeads.putAll(heads.agents(unasked));
    }
    Map<String, AgentDefinition> current = new LinkedHashMap<>();
    for (String role : roles) {
      Head agent = agentHeads.get(role);
      if (agent != null && !agent.retired()) {
        current.put(
            role,
            agents
                .find(role, agent.version())
                .orElseThrow(() -> new IllegalStateException("agent " + role + " vanished")));
      }
    }
    return Optional.of(new Resolved(definition, current));
  }
}
