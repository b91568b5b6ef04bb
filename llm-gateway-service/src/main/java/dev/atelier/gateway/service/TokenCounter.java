package dev.atelier.gateway.service;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.runtime.Startup;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.ArrayList;
import java.util.List;

/**
 * Counts tokens with OpenAI's tokenizers ({@link BytePairEncoding}, exact and compact): {@code
 * o200k_base} for the GPT-4o, GPT-4.1, GPT-5 and o-series families and anything unknown, {@code
 * cl100k_base} for GPT-4, GPT-3.5 and the text-embedding models.
 *
 * <p>A chat prompt is counted the way OpenAI documents it for its chat models: every message costs
 * 3 tokens of framing plus its role and content (plus 1 and the name when named), the reply is
 * primed with 3 more, and tool definitions and tool calls count as their JSON. The simulated
 * provider reports exactly these counts; for a real provider they are only the fallback estimate.
 */
// Built at start-up: reading a vocabulary takes a few hundred milliseconds, which would otherwise
// stall the event loop on the first call. Both encodings together hold about 8 MB.
@Startup
@ApplicationScoped
public class TokenCounter {

  static final int TOKENS_PER_MESSAGE = 3;
  static final int TOKENS_PER_NAME = 1;
  static final int REPLY_PRIMING = 3;

  private final BytePairEncoding o200k = BytePairEncoding.o200k();
  private final BytePairEncoding cl100k = BytePairEncoding.cl100k();

  /** The tokenizer of a model. */
  BytePairEncoding encoding(String model) {
    String m = model == null ? "" : model.toLowerCase();
    boolean legacy =
        (m.startsWith("gpt-4") && !m.startsWith("gpt-4o") && !m.startsWith("gpt-4.1"))
            || m.startsWith("gpt-3.5")
            || m.startsWith("text-embedding");
    return legacy ? cl100k : o200k;
  }

  public int count(String model, String text) {
    return encoding(model).count(text);
  }

  /**
   * Input tokens of an embeddings request's {@code input}: each string counted with the model's
   * tokenizer, each token-id array by its length.
   */
  public long embeddingTokens(String model, JsonNode input) {
    long total = 0;
    for (JsonNode item : embeddingInputs(input)) {
      total += item.isTextual() ? count(model, item.asText()) : item.size();
    }
    return total;
  }

  /** The items of an embeddings {@code input}: a string, strings, token ids or arrays of them. */
  public static List<JsonNode> embeddingInputs(JsonNode input) {
    List<JsonNode> items = new ArrayList<>();
    if (input.isArray() && !input.isEmpty() && !input.get(0).isNumber()) {
      input.forEach(items::add);
    } else {
      items.add(input);
    }
    return items;
  }

  /** Prompt tokens of a chat request body (messages and tools). */
  public long promptTokens(String model, JsonNode body) {
    BytePairEncoding enc = encoding(model);
    long total = REPLY_PRIMING;
    for (JsonNode m : body.path("messages")) {
      total += TOKENS_PER_MESSAGE;
      total += enc.count(m.path("role").asText(""));
      total += enc.count(ChatRequest.text(m.get("content")));
      JsonNode name = m.get("name");
      if (name != null && name.isTextual()) {
        total += TOKENS_PER_NAME + enc.count(name.asText());
      }
      JsonNode toolCalls = m.get("tool_calls");
      if (toolCalls != null && toolCalls.isArray() && !toolCalls.isEmpty()) {
        total += enc.count(toolCalls.toString());
      }
    }
    JsonNode tools = body.get("tools");
    if (tools != null && tools.isArray() && !tools.isEmpty()) {
      total += enc.count(tools.toString());
    }
    return total;
  }

  /** Completion tokens of an assistant message: its content and any tool calls. */
  public long completionTokens(String model, String content, String toolCallsJson) {
    BytePairEncoding enc = encoding(model);
    long total = enc.count(content);
    if (toolCallsJson != null && !toolCallsJson.isEmpty()) {
      total += enc.count(toolCallsJson);
    }
    return total;
  }

  /** The longest prefix of {@code text} of at most {@code maxTokens} tokens. */
  public String truncate(String model, String text, int maxTokens) {
    return encoding(model).truncate(text, maxTokens);
  }
}
