package dev.atelier.orchestrator.model;

import com.fasterxml.jackson.databind.JsonNode;
import dev.atelier.contracts.AgentSpec;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;

/**
 * A role an agent plays: its prompts, output contract and model settings. Immutable per version; a
 * step carries the version it was dispatched with.
 *
 * @param userPromptTemplate {@code {{requirement}}}, {@code {{input:<artifact>}}} and {@code
 *     {{feedback}}} are filled in by the worker
 * @param outputArtifact name under which the worker stores the output, e.g. {@code analysis}
 * @param outputSchema JSON Schema of the output
 * @param version assigned by the store; ignored on input
 * @param createdAt when this version was stored; ignored on input
 */
public record AgentDefinition(
    String name,
    int version,
    String description,
    String systemPrompt,
    String userPromptTemplate,
    String outputArtifact,
    JsonNode outputSchema,
    String model,
    List<String> fallbackModels,
    BigDecimal temperature,
    Integer maxTokens,
    Instant createdAt) {

  public static final String DEFAULT_MODEL = "gpt-4o-mini";

  public AgentDefinition {
    model = model == null || model.isBlank() ? DEFAULT_MODEL : model;
    fallbackModels = fallbackModels == null ? List.of() : List.copyOf(fallbackModels);
  }

  public AgentDefinition stored(String name, int version, Instant createdAt) {
    return new AgentDefinition(
        name,
        version,
        description,
        systemPrompt,
        userPromptTemplate,
        outputArtifact,
        outputSchema,
        model,
        fallbackModels,
        temperature,
        maxTokens,
        createdAt);
  }

  /** The snapshot a step is dispatched with. */
  public AgentSpec toSpec() {
    return new AgentSpec(
        name,
        version,
        systemPrompt,
        userPromptTemplate,
        outputArtifact,
        outputSchema,
        model,
        fallbackModels,
        temperature,
        maxTokens);
  }
}
