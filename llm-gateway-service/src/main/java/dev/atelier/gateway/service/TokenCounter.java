package dev.atelier.gateway.service;

import com.fasterxml.jackson.databind.JsonNode;
import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingRegistry;
import com.knuddels.jtokkit.api.EncodingResult;
import com.knuddels.jtokkit.api.EncodingType;
import io.quarkus.runtime.Startup;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.jboss.logging.Logger;

/**
 * Counts tokens with OpenAI's tokenizers (jtokkit): {@code o200k_base} for the GPT-4o, GPT-4.1,
 * GPT-5 and o-series families and anything unknown, {@code cl100k_base} for GPT-4, GPT-3.5 and the
 * text-embedding models.
 *
 * <p>A chat prompt is counted the way OpenAI documents it for its chat models: every message costs
 * 3 tokens of framing plus its role and content (plus 1 and the name when named), the reply is
 * primed with 3 more, and tool definitions and tool calls count as their JSON. The simulated
 * provider reports exactly these counts; for a real provider they are only the fallback estimate.
 */
// Built at start-up: loading an encoding takes a second or more, which would otherwise stall the
// event loop on the first call. o200k_base (some 60 MB of heap) is loaded then; cl100k_base (some
// 30 MB) only once a legacy model asks for it, on a worker thread, counting with o200k_base in the
// meantime (a close estimate), so a gateway that never sees a legacy model never pays for it. The
// other encodings of jtokkit's default registry (r50k, p50k) are never loaded.
@Startup
@ApplicationScoped
public class TokenCounter {

  static final int TOKENS_PER_MESSAGE = 3;
  static final int TOKENS_PER_NAME = 1;
  static final int REPLY_PRIMING = 3;

  private static final Logger LOG = Logger.getLogger(TokenCounter.class);

  private final EncodingRegistry registry = Encodings.newLazyEncodingRegistry();
  private final Encoding o200k;
  private final AtomicReference<Encoding> cl100k = new AtomicReference<>();
  private final AtomicBoolean cl100kRequested = new AtomicBoolean();

  public TokenCounter() {
    this.o200k = registry.getEncoding(EncodingType.O200K_BASE);
  }

  /** The tokenizer of a model. */
  public Encoding encoding(String model) {
    String m = model == null ? "" : model.toLowerCase();
    boolean legacy =
        (m.startsWith("gpt-4") && !m.startsWith("gpt-4o") && !m.startsWith("gpt-4.1"))
            || m.startsWith("gpt-3.5")
            || m.startsWith("text-embedding");
    if (!legacy) {
      return o200k;
    }
    Encoding loaded = cl100k.get();
    if (loaded == null) {
      if (cl100kRequested.compareAndSet(false, true)) {
        LOG.infof("loading cl100k_base for %s; counting with o200k_base until it is loaded", model);
        CompletableFuture.runAsync(
            () -> cl100k.set(registry.getEncoding(EncodingType.CL100K_BASE)),
            Infrastructure.getDefaultWorkerPool());
      }
      return o200k;
    }
    return loaded;
  }

  /** Loads cl100k_base now, on the calling thread (never call it on the event loop). */
  public void loadLegacyEncoding() {
    cl100kRequested.set(true);
    cl100k.compareAndSet(null, registry.getEncoding(EncodingType.CL100K_BASE));
  }

  public int count(String model, String text) {
    return countOrdinary(encoding(model), text);
  }

  /** Prompt tokens of a chat request body (messages and tools). */
  public long promptTokens(String model, JsonNode body) {
    Encoding enc = encoding(model);
    long total = REPLY_PRIMING;
    for (JsonNode m : body.path("messages")) {
      total += TOKENS_PER_MESSAGE;
      total += countOrdinary(enc, m.path("role").asText(""));
      total += countOrdinary(enc, ChatRequest.text(m.get("content")));
      JsonNode name = m.get("name");
      if (name != null && name.isTextual()) {
        total += TOKENS_PER_NAME + countOrdinary(enc, name.asText());
      }
      JsonNode toolCalls = m.get("tool_calls");
      if (toolCalls != null && toolCalls.isArray() && !toolCalls.isEmpty()) {
        total += countOrdinary(enc, toolCalls.toString());
      }
    }
    JsonNode tools = body.get("tools");
    if (tools != null && tools.isArray() && !tools.isEmpty()) {
      total += countOrdinary(enc, tools.toString());
    }
    return total;
  }

  /** Completion tokens of an assistant message: its content and any tool calls. */
  public long completionTokens(String model, String content, String toolCallsJson) {
    Encoding enc = encoding(model);
    long total = countOrdinary(enc, content);
    if (toolCallsJson != null && !toolCallsJson.isEmpty()) {
      total += countOrdinary(enc, toolCallsJson);
    }
    return total;
  }

  /** The longest prefix of {@code text} of at most {@code maxTokens} tokens. */
  public String truncate(String model, String text, int maxTokens) {
    Encoding enc = encoding(model);
    EncodingResult result = enc.encodeOrdinary(text, maxTokens);
    return result.isTruncated() ? enc.decode(result.getTokens()) : text;
  }

  // Prompt text may contain strings like "<|endoftext|>": the caller's text is counted as text, not
  // as special tokens, which is also what makes jtokkit's encode() refuse it.
  private static int countOrdinary(Encoding enc, String text) {
    return text == null || text.isEmpty() ? 0 : enc.countTokensOrdinary(text);
  }
}
