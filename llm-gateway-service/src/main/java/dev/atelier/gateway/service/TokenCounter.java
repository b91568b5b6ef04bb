package dev.atelier.gateway.service;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.runtime.Startup;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Counts tokens with OpenAI's tokenizers ({@link BytePairEncoding}, exact and compact): {@code
 * o200k_base} for the GPT-4o, GPT-4.1, GPT-5 and o-series families and anything unknown, {@code
 * cl100k_base} for GPT-4, GPT-3.5 and the text-embedding models.
 *
 * <p>A chat prompt is counted the way OpenAI documents it for its chat models: every message costs
 * 3 tokens of framing plus its role and content (plus 1 and the name when named), the reply is
 * primed with 3 more, tool definitions and tool calls count as their JSON, and images as {@link
 * ImageTokens} has it. The simulated provider reports exactly these counts; for a real provider
 * they are only the fallback estimate.
 */
// Built at start-up: reading a vocabulary takes a few hundred milliseconds, which would otherwise
// stall the event loop on the first call. Both encodings together hold about 8 MB.
@Startup
@ApplicationScoped
public class TokenCounter {

  static final int TOKENS_PER_MESSAGE = 3;
  static final int TOKENS_PER_NAME = 1;
  static final int REPLY_PRIMING = 3;

  /** Texts shorter than this are counted directly: hashing them would save little. */
  static final int CACHE_MIN_CHARS = 128;

  private static final int CACHE_SLOTS = 8192;

  private final AtomicReferenceArray<CachedCount> cache = new AtomicReferenceArray<>(CACHE_SLOTS);
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
    return counted(encoding(model), text);
  }

  /**
   * Tokens of {@code text}, from the cache when the same text was counted recently. Prompts repeat:
   * a role's system prompt goes with every call of that role, an artifact is in the prompt of every
   * later step of its workflow, and a call is counted for its reservation and again for its usage.
   * Splitting and merging runs at a few MB/s, so an 8 KB prompt costs about a millisecond of CPU;
   * hashing it costs microseconds.
   */
  private int counted(BytePairEncoding enc, String text) {
    if (text == null || text.length() < CACHE_MIN_CHARS) {
      return enc.count(text);
    }
    long h1 = 0x9E3779B97F4A7C15L;
    long h2 = 0xC2B2AE3D27D4EB4FL ^ text.length();
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      h1 = (h1 ^ c) * 0x100000001B3L;
      h2 = (h2 + c) * 0x9E3779B97F4A7C15L;
      h2 ^= h2 >>> 29;
    }
    int slot = (int) (h1 ^ h1 >>> 32) & (CACHE_SLOTS - 1);
    CachedCount hit = cache.get(slot);
    if (hit != null && hit.h1 == h1 && hit.h2 == h2 && hit.encoding == enc) {
      return hit.count;
    }
    int count = enc.count(text);
    cache.set(slot, new CachedCount(h1, h2, enc, count));
    return count;
  }

  /**
   * A text's count under its two 64-bit hashes: the text itself is not kept, so the cache's memory
   * stays fixed (a few hundred KB) however long the prompts are. Two texts with the same length and
   * both hashes would share a count; at 128 bits that is not a practical concern.
   */
  private record CachedCount(long h1, long h2, BytePairEncoding encoding, int count) {}

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

  /** Prompt tokens of a chat request body (messages, their images, and tools). */
  public long promptTokens(String model, JsonNode body) {
    BytePairEncoding enc = encoding(model);
    long total = REPLY_PRIMING;
    for (JsonNode m : body.path("messages")) {
      total += TOKENS_PER_MESSAGE;
      total += enc.count(m.path("role").asText(""));
      JsonNode content = m.get("content");
      total += counted(enc, ChatRequest.text(content));
      total += ImageTokens.ofContent(model, content);
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
      total += counted(enc, tools.toString());
    }
    return total;
  }

  /** Completion tokens of an assistant message: its content and any tool calls. */
  public long completionTokens(String model, String content, String toolCallsJson) {
    BytePairEncoding enc = encoding(model);
    long total = counted(enc, content);
    if (toolCallsJson != null && !toolCallsJson.isEmpty()) {
      total += counted(enc, toolCallsJson);
    }
    return total;
  }

  /** The longest prefix of {@code text} of at most {@code maxTokens} tokens. */
  public String truncate(String model, String text, int maxTokens) {
    return encoding(model).truncate(text, maxTokens);
  }
}
