package dev.atelier.orchestrator.service;

import com.fasterxml.jackson.databind.JsonNode;
import dev.atelier.kit.problem.ProblemException;
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
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * Workflow definitions: listing, validated versioned edits, retirement and built-in seeding. A
 * workflow keeps the definition version it was submitted with.
 */
@ApplicationScoped
public class WorkflowDefinitionService {

  private static final Logger LOG = Logger.getLogger(WorkflowDefinitionService.class);

  /** The outcome of a write. */
  public record Saved(WorkflowDefinition definition, boolean created, boolean changed) {}

  private final WorkflowDefinitionRepository definitions;
  private final AgentRepository agents;
  private final DefinitionCodec codec;

  WorkflowDefinitionService(
      WorkflowDefinitionRepository definitions, AgentRepository agents, DefinitionCodec codec) {
    this.definitions = definitions;
    this.agents = agents;
    this.codec = codec;
  }

  /** The current versions by name, a page at a time ({@link DefinitionPages}). */
  public VersionedStore.Page<WorkflowDefinition> list(Integer limit, String after) {
    return DefinitionPages.page(definitions, limit, after);
  }

  public Optional<WorkflowDefinition> findCurrent(String name) {
    return definitions.latest(name).filter(s -> !s.retired()).map(Stored::definition);
  }

  public WorkflowDefinition current(String name) {
    return findCurrent(name)
        .orElseThrow(() -> ProblemException.notFound("workflow definition", name));
  }

  public WorkflowDefinition version(String name, int version) {
    return definitions
        .find(name, version)
        .orElseThrow(
            () -> ProblemException.notFound("workflow definition", name + " version " + version));
  }

  @Transactional
  public Saved put(String name, JsonNode body) {
    // Locked before validating: the roles it is checked against cannot change until it is stored.
    definitions.lock(name);
    return save(name, parse(name, body), "api", false);
  }

  @Transactional
  public Saved create(JsonNode body) {
    String name = body == null ? null : body.path("name").asText(null);
    definitions.lock(name);
    return save(name, parse(name, body), "api", true);
  }

  /** Retires the definition; workflows already running on it go on with their version. */
  @Transactional
  public void retire(String name) {
    definitions.lock(name);
    Stored<WorkflowDefinition> latest =
        definitions
            .latest(name)
            .filter(s -> !s.retired())
            .orElseThrow(() -> ProblemException.notFound("workflow definition", name));
    definitions.retire(name, latest.version(), Instant.now());
  }

  /**
   * Seeds a built-in definition, like {@link AgentService#seed}. Invalid built-ins stop start-up.
   */
  @Transactional
  public void seed(String name, WorkflowDefinition definition) {
    definitions.lock(name);
    List<String> faults = DefinitionValidator.validate(name, definition, agentsOf(definition));
    if (!faults.isEmpty()) {
      throw new IllegalStateException(
          "built-in workflow definition " + name + " is invalid: " + faults);
    }
    String hash = hash(name, definition);
    Stored<WorkflowDefinition> latest = definitions.latest(name).orElse(null);
    if (latest == null) {
      definitions.insert(name, 1, definition.stored(name, 1, null), hash, "builtin");
      LOG.infof("seeded workflow definition %s v1", name);
    } else if (latest.source().equals("builtin")
        && !latest.retired()
        && !latest.contentHash().equals(hash)) {
      int version = latest.version() + 1;
      definitions.insert(name, version, definition.stored(name, version, null), hash, "builtin");
      LOG.infof("updated built-in workflow definition %s to v%d", name, version);
    }
  }

  private WorkflowDefinition parse(String name, JsonNode body) {
    WorkflowDefinition definition;
    try {
      definition = codec.workflow(body);
    } catch (IllegalArgumentException e) {
      throw ProblemException.badRequest("invalid-definition", e.getMessage());
    }
    List<String> faults = DefinitionValidator.validate(name, definition, agentsOf(definition));
    if (!faults.isEmpty()) {
      throw ProblemException.badRequest(
          "invalid-definition",
          "workflow definition " + name + " is invalid: " + String.join("; ", faults));
    }
    return definition;
  }

  private Saved save(String name, WorkflowDefinition definition, String source, boolean mustBeNew) {
    definitions.lock(name);
    String hash = hash(name, definition);
    Stored<WorkflowDefinition> latest = definitions.latest(name).orElse(null);
    boolean exists = latest != null && !latest.retired();
    if (exists && mustBeNew) {
      throw ProblemException.conflict(
          "definition-exists", "workflow definition " + name + " already exists");
    }
    if (exists && latest.contentHash().equals(hash)) {
      return new Saved(latest.definition(), false, false);
    }
    int version = latest == null ? 1 : latest.version() + 1;
    WorkflowDefinition stored = definition.stored(name, version, Instant.now());
    definitions.insert(name, version, stored, hash, source);
    return new Saved(stored, !exists, true);
  }

  private Map<String, AgentDefinition> agentsOf(WorkflowDefinition definition) {
    return agents.current(
        definition.steps().stream().map(StepDefinition::role).filter(r -> r != null).toList());
  }

  private String hash(String name, WorkflowDefinition definition) {
    return codec.contentHash(definition.stored(name, 0, null));
  }
}
