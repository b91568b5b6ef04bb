package dev.atelier.worker.service;

import dev.atelier.contracts.AgentSpec;
import dev.atelier.worker.config.WorkerConfig;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Builds a step's prompt from its agent definition. The system prompt is used as written; in the
 * user prompt template {@code {{requirement}}}, {@code {{feedback}}} ("none" when there is none)
 * and {@code {{input:<name>}}} (the named input's content; "none" when the step has no such input)
 * are replaced. Inputs the template does not name are appended at the end, so nothing the
 * orchestrator passed is silently dropped. Inputs are first cut to the context limit ({@link
 * InputBudget}).
 */
@ApplicationScoped
public class PromptRenderer {

  static final String NONE = "none";
  private static final Pattern PLACEHOLDER =
      Pattern.compile("\\{\\{\\s*(requirement|feedback|input:\\s*([^}\\s]+))\\s*}}");

  private final WorkerConfig config;

  PromptRenderer(WorkerConfig config) {
    this.config = config;
  }

  public RenderedPrompt render(
      AgentSpec agent, String requirement, String feedback, List<LoadedInput> inputs) {
    InputBudget.Fitted fitted = InputBudget.fit(inputs, config.maxInputChars());
    Map<String, LoadedInput> byName = new LinkedHashMap<>();
    fitted.inputs().forEach(i -> byName.put(i.name(), i));
    Set<String> used = new HashSet<>();

    Matcher m = PLACEHOLDER.matcher(agent.userPromptTemplate());
    StringBuilder user = new StringBuilder();
    while (m.find()) {
      String replacement;
      if (m.group(2) != null) {
        LoadedInput input = byName.get(m.group(2));
        used.add(m.group(2));
        replacement = input == null ? NONE : input.text();
      } else if (m.group(1).equals("requirement")) {
        replacement = orNone(requirement);
      } else {
        replacement = orNone(feedback);
      }
      m.appendReplacement(user, Matcher.quoteReplacement(replacement));
    }
    m.appendTail(user);

    for (LoadedInput input : byName.values()) {
      if (!used.contains(input.name())) {
        user.append("\n\n## Input ")
            .append(input.name())
            .append('@')
            .append(input.version())
            .append("\n\n")
            .append(input.text());
      }
    }
    return new RenderedPrompt(
        agent.systemPrompt() == null ? "" : agent.systemPrompt(),
        user.toString(),
        fitted.truncations());
  }

  private static String orNone(String value) {
    return value == null || value.isBlank() ? NONE : value;
  }
}
