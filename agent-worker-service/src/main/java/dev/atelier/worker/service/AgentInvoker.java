package dev.atelier.worker.service;

import com.fasterxml.jackson.databind.JsonNode;
import dev.atelier.contracts.AgentSpec;
import dev.atelier.worker.client.GatewayChat;
import dev.atelier.worker.client.GatewayException;
import dev.atelier.worker.config.WorkerConfig;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.request.ResponseFormat;
import dev.langchain4j.model.chat.request.ResponseFormatType;
import dev.langchain4j.model.chat.request.json.JsonRawSchema;
import dev.langchain4j.model.chat.request.json.JsonSchema;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.output.TokenUsage;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.ArrayList;
import java.util.List;
import org.jboss.logging.Logger;

/**
 * Asks the model for the step's output and insists on a schema-conforming answer. Each call
 * requests structured output ({@code response_format} json_schema with the role's schema); an
 * answer that is not JSON or does not conform is sent back with the validation errors and re-asked
 * up to {@code worker.repair-attempts} times, then the step fails with {@code output_invalid}. When
 * the model is unavailable the agent's fallback models are tried in order.
 */
@ApplicationScoped
public class AgentInvoker {

  private static final Logger LOG = Logger.getLogger(AgentInvoker.class);
  private static final int ERRORS_SHOWN = 5;

  private final GatewayChat gateway;
  private final WorkerConfig config;

  AgentInvoker(GatewayChat gateway, WorkerConfig config) {
    this.gateway = gateway;
    this.config = config;
  }

  /**
   * Runs the conversation until the answer conforms to {@code schema}.
   *
   * @throws StepFailure {@code output_invalid}, {@code provider_unavailable} or {@code
   *     provider_rejected}
   */
  public Answer invoke(
      AgentSpec agent, RenderedPrompt prompt, JsonSchema responseSchema, Validation validation) {
    List<ChatMessage> messages = new ArrayList<>();
    if (!prompt.system().isBlank()) {
      messages.add(SystemMessage.from(prompt.system()));
    }
    messages.add(UserMessage.from(prompt.user()));
    ResponseFormat format =
        ResponseFormat.builder().type(ResponseFormatType.JSON).jsonSchema(responseSchema).build();

    Usage usage = new Usage();
    List<String> errors = List.of();
    int calls = 1 + Math.max(0, config.repairAttempts());
    for (int call = 1; call <= calls; call++) {
      ChatResponse response = chat(agent, messages, format, usage);
      String text = response.aiMessage() == null ? null : response.aiMessage().text();
      OutputValidator.Result result = validation.check(text);
      if (result.valid()) {
        return new Answer(result.value(), call, usage.input, usage.output, usage.responseModel);
      }
      errors = result.errors();
      LOG.debugf("answer %d of %d for %s does not conform: %s", call, calls, agent.role(), errors);
      messages.add(AiMessage.from(text == null || text.isEmpty() ? "(empty answer)" : text));
      messages.add(UserMessage.from(repairRequest(errors)));
    }
    throw new StepFailure(
        StepFailure.OUTPUT_INVALID,
        false,
        "the model's answer did not conform to the output schema after "
            + calls
            + (calls == 1 ? " attempt: " : " attempts: ")
            + String.join("; ", errors.subList(0, Math.min(ERRORS_SHOWN, errors.size())))
            + (errors.size() > ERRORS_SHOWN
                ? " (and " + (errors.size() - ERRORS_SHOWN) + " more)"
                : ""));
  }

  /** The {@code response_format} schema for an agent: its output schema, verbatim. */
  public static JsonSchema responseSchema(AgentSpec agent) {
    return JsonSchema.builder()
        .name(agent.outputArtifact().replaceAll("[^a-zA-Z0-9_-]", "_"))
        .rootElement(JsonRawSchema.from(agent.outputSchema().toString()))
        .build();
  }

  private ChatResponse chat(
      AgentSpec agent, List<ChatMessage> messages, ResponseFormat format, Usage usage) {
    List<String> models = new ArrayList<>();
    models.add(agent.model());
    models.addAll(agent.fallbackModels());
    for (int i = 0; ; i++) {
      ChatRequest request =
          ChatRequest.builder()
              .messages(List.copyOf(messages))
              .parameters(
                  ChatRequestParameters.builder()
                      .modelName(models.get(i))
                      .temperature(
                          agent.temperature() == null ? null : agent.temperature().doubleValue())
                      .maxOutputTokens(agent.maxTokens())
                      .responseFormat(format)
                      .build())
              .build();
      try {
        ChatResponse response = gateway.chat(request);
        usage.add(response);
        return response;
      } catch (GatewayException e) {
        if (e.retryable() && i + 1 < models.size()) {
          LOG.warnf(
              "model %s unavailable for %s (%s); trying %s",
              models.get(i), agent.role(), e.getMessage(), models.get(i + 1));
          continue;
        }
        throw new StepFailure(
            e.retryable() ? StepFailure.PROVIDER_UNAVAILABLE : StepFailure.PROVIDER_REJECTED,
            e.retryable(),
            e.getMessage());
      }
    }
  }

  private static String repairRequest(List<String> errors) {
    return "Your previous answer is not valid for the required JSON Schema:\n- "
        + String.join("\n- ", errors.subList(0, Math.min(20, errors.size())))
        + "\nAnswer again with only the corrected JSON document, conforming to the schema.";
  }

  /** How an answer is judged; the caller binds the compiled schema. */
  @FunctionalInterface
  public interface Validation {
    OutputValidator.Result check(String answer);
  }

  /**
   * A conforming answer.
   *
   * @param calls LLM calls it took, repairs included
   */
  public record Answer(
      JsonNode output, int calls, long inputTokens, long outputTokens, String responseModel) {}

  private static final class Usage {
    long input;
    long output;
    String responseModel;

    void add(ChatResponse response) {
      TokenUsage tokens = response.tokenUsage();
      if (tokens != null) {
        input += tokens.inputTokenCount() == null ? 0 : tokens.inputTokenCount();
        output += tokens.outputTokenCount() == null ? 0 : tokens.outputTokenCount();
      }
      if (response.modelName() != null) {
        responseModel = response.modelName();
      }
    }
  }
}
