package dev.atelier.contracts;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.util.List;

/**
 * The resolved agent definition a step runs with. A step keeps the version it was dispatched with,
 * so the worker never looks the role up again.
 *
 * @param role role name, for example {@code architect}
 * @param version the agent definition's version
 * @param systemPrompt system prompt template
 * @param userPromptTemplate user prompt template; {@code {{requirement}}} and {@code
 *     {{input:<name>}}} are replaced by the requirement and the named input artifact's content
 * @param outputArtifact the name under which the worker stores the step's output
 * @param outputSchema JSON Schema the output must conform to
 * @param model model alias asked of the gateway
 * @param fallbackModels models to try, in order, when the first is unavailable
 * @param temperature sampling temperature
 * @param maxTokens output token limit
 */
public record AgentSpec(
    String role,
    int version,
    String systemPrompt,
    String userPromptTemplate,
    String outputArtifact,
    JsonNode outputSchema,
    String model,
    List<String> fallbackModels,
    BigDecimal temperature,
    Integer maxTokens) {

  public AgentSpec {
    fallbackModels = fallbackModels == null ? List.of() : List.copyOf(fallbackModels);
  }
}
