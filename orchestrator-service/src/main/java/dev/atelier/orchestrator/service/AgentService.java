package dev.atelier.orchestrator.service;

import com.fasterxml.jackson.databind.JsonNode;
import dev.atelier.kit.problem.ProblemException;
import dev.atelier.orchestrator.messaging.StepQueues;
import dev.atelier.orchestrator.model.AgentDefinition;
import dev.atelier.orchestrator.model.StepDefinition;
import dev.atelier.orchestrator.model.WorkflowDefinition;
import dev.atelier.orchestrator.repository.AgentRepository;
import dev.atelier.orchestrator.repository.VersionedStore;
import dev.atelier.orchestrator.repository.VersionedStore.Stored;
import dev.atelier.orchestrator.repository.WorkflowDefinitionRepository;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jboss.logging.Logger;

/**
 * Agent definitions (roles): listing, versioned edits, retirement and built-in seeding. Every
 * change stores a new version; steps keep the version they were created with, so edits never
 * disturb running workflows.
 */
@ApplicationScoped
public class AgentService {

  private static final Logger LOG = Logger.getLogger(AgentService.class);

  /** The outcome of a write. */
  public record Saved(AgentDefinition agent, boolean created, boolean changed) {}

  private final AgentRepository agents;
  private final WorkflowDefinitionRepository workflows;
  private final DefinitionCodec codec;
  private final StepQueues stepQueues;
  private final AfterCommit afterCommit;

  AgentService(
      AgentRepository agents,
      WorkflowDefinitionRepository workflows,
      DefinitionCodec codec,
      StepQueues stepQueues,
      AfterCommit afterCommit) {
    this.agents = agents;
    this.workflows = workflows;
    this.codec = codec;
    this.stepQueues = stepQueues;
    this.afterCommit = afterCommit;
  }

  /** The names of every current role. */
  public List<String> names() {
    return agents.currentNames();
  }

  /** The current versions by name, a page at a time ({@link DefinitionPages}). */
  public VersionedStore.Page<AgentDefinition> list(Integer limit, String after) {
    return DefinitionPages.page(agents, limit, after);
  }

  public AgentDefinition current(String name) {
    return agents
        .latest(name)
        .filter(s -> !s.retired())
        .map(Stored::definition)
        .orElseThrow(() -> ProblemException.notFound("agent", name));
  }

  public AgentDefinition version(String name, int version) {
    return agents
        .find(name, version)
        .orElseThrow(() -> ProblemException.notFound("agent", name + " version " + version));
  }

  public Map<String, AgentDefinition> current(Collection<String> names) {
    return agents.current(names);
  }

  /** Stores {@code body} as the next version of {@code name}, unless it equals the current one. */
  @Transactional
  public Saved put(String name, JsonNode body) {
    AgentDefinition agent = parse(name, body);
    return save(name, agent, "api", false);
  }

  /** Creates a new role; 409 when it exists. */
  @Transactional
  public Saved create(JsonNode body) {
    String name = body == null ? null : body.path("name").asText(null);
    AgentDefinition agent = parse(name, body);
    return save(name, agent, "api", true);
  }

  /**
   * Retires the role. Refused while a current workflow definition uses it; steps already created
   * keep their version and run on.
   */
  @Transactional
  public void retire(String name) {
    agents.lock(name);
    Stored<AgentDefinition> latest =
        agents
            .latest(name)
            .filter(s -> !s.retired())
            .orElseThrow(() -> ProblemException.notFound("agent", name));
    List<String> users =
        workflows.current().stream()
            .map(Stored::definition)
            .filter(w -> w.steps().stream().anyMatch(s -> s.role().equals(name)))
            .map(WorkflowDefinition::name)
            .toList();
    if (!users.isEmpty()) {
      throw ProblemException.conflict(
          "agent-in-use", "agent " + name + " is used by workflow definitions " + users);
    }
    agents.retire(name, latest.version(), Instant.now());
  }

  /**
   * Seeds a built-in role: stores it when missing, or as a new version when the shipped text
   * changed and nobody edited the role through the API since (an edit is never overwritten).
   */
  @Transactional
  public void seed(String name, AgentDefinition agent) {
    List<String> faults = DefinitionValidator.validate(name, agent);
    if (!faults.isEmpty()) {
      throw new IllegalStateException("built-in agent " + name + " is invalid: " + faults);
    }
    agents.lock(name);
    String hash = hash(name, agent);
    Stored<AgentDefinition> latest = agents.latest(name).orElse(null);
    if (latest == null) {
      agents.insert(name, 1, agent.stored(name, 1, null), hash, "builtin");
      LOG.infof("seeded agent %s v1", name);
    } else if (latest.source().equals("builtin")
        && !latest.retired()
        && !latest.contentHash().equals(hash)) {
      // Built-in definitions are seeded after the roles, with what ships alongside this role.
      List<String> broken = definitionsBrokenBy(name, agent, false);
      if (!broken.isEmpty()) {
        // Definitions edited through the API are not reseeded: they would stop being valid.
        LOG.errorf(
            "not updating built-in agent %s: the shipped version would make workflow definitions"
                + " that use it invalid (%s); change them, then restart",
            name, String.join("; ", broken));
        return;
      }
      int version = latest.version() + 1;
      agents.insert(name, version, agent.stored(name, version, null), hash, "builtin");
      LOG.infof("updated built-in agent %s to v%d", name, version);
    }
  }

  private AgentDefinition parse(String name, JsonNode body) {
    AgentDefinition agent;
    try {
      agent = codec.agent(body);
    } catch (IllegalArgumentException e) {
      throw ProblemException.badRequest("invalid-agent", e.getMessage());
    }
    List<String> faults = DefinitionValidator.validate(name, agent);
    if (!faults.isEmpty()) {
      throw ProblemException.badRequest(
          "invalid-agent", "agent " + name + " is invalid: " + String.join("; ", faults));
    }
    return agent;
  }

  private Saved save(String name, AgentDefinition agent, String source, boolean mustBeNew) {
    agents.lock(name);
    String hash = hash(name, agent);
    Stored<AgentDefinition> latest = agents.latest(name).orElse(null);
    boolean exists = latest != null && !latest.retired();
    if (exists && mustBeNew) {
      throw ProblemException.conflict("agent-exists", "agent " + name + " already exists");
    }
    if (exists && latest.contentHash().equals(hash)) {
      return new Saved(latest.definition(), false, false);
    }
    List<String> broken = definitionsBrokenBy(name, agent, true);
    if (!broken.isEmpty()) {
      // Say, a new outputArtifact that a step of a current definition reads under the old name:
      // every workflow started from it would fail at that step.
      throw ProblemException.conflict(
          "agent-breaks-definitions",
          "this change to agent "
              + name
              + " would make workflow definitions that use it invalid: "
              + String.join("; ", broken)
              + ". Change those definitions first (or together, as a new role)");
    }
    int version = latest == null ? 1 : latest.version() + 1;
    Instant now = Instant.now();
    AgentDefinition stored = agent.stored(name, version, now);
    agents.insert(name, version, stored, hash, source);
    // A new role needs its queue before any step of it is published.
    afterCommit.run(() -> stepQueues.ensure(name));
    return new Saved(stored, !exists, true);
  }

  /**
   * The faults the current workflow definitions using {@code name} would have with {@code agent}.
   *
   * @param builtins whether to check the built-in definitions too (not while seeding, which updates
   *     them next)
   */
  private List<String> definitionsBrokenBy(String name, AgentDefinition agent, boolean builtins) {
    List<String> faults = new ArrayList<>();
    for (Stored<WorkflowDefinition> stored : workflows.current()) {
      if (!builtins && stored.source().equals("builtin")) {
        continue;
      }
      WorkflowDefinition w = stored.definition();
      if (w.steps().stream().noneMatch(s -> name.equals(s.role()))) {
        continue;
      }
      Map<String, AgentDefinition> now =
          agents.current(w.steps().stream().map(StepDefinition::role).distinct().toList());
      Map<String, AgentDefinition> after = new HashMap<>(now);
      after.put(name, agent);
      // Only the faults this change brings: one the definition has anyway is not its doing.
      // Compared without the lists they end with (the artifacts readable at a step), which the
      // change may alter in a fault that was there before.
      List<String> before =
          DefinitionValidator.validate(w.name(), w, now).stream()
              .map(AgentService::faultKey)
              .toList();
      for (String fault : DefinitionValidator.validate(w.name(), w, after)) {
        if (!before.contains(faultKey(fault))) {
          faults.add(w.name() + ": " + fault);
        }
      }
    }
    return faults;
  }

  private static String faultKey(String fault) {
    return fault.replaceFirst(" \\[[^\\]]*\\]$", "");
  }

  private String hash(String name, AgentDefinition agent) {
    return codec.contentHash(agent.stored(name, 0, null));
  }
}
