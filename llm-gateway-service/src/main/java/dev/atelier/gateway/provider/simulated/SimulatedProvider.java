package dev.atelier.gateway.provider.simulated;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.atelier.contracts.LlmCallRecorded;
import dev.atelier.gateway.provider.Completion;
import dev.atelier.gateway.provider.EmbeddingCall;
import dev.atelier.gateway.provider.Provider;
import dev.atelier.gateway.provider.ProviderCall;
import dev.atelier.gateway.provider.StreamEvent;
import dev.atelier.gateway.service.ChatRequest;
import dev.atelier.gateway.service.GatewayException;
import dev.atelier.gateway.service.TokenCounter;
import dev.atelier.gateway.service.Usage;
import dev.atelier.kit.ids.TimeOrderedIds;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The built-in deterministic provider. The same request gets the same content (seeded from a hash
 * of the model, messages, tools and response format), JSON Schema requests get JSON that conforms
 * to the schema, and token counts are real tokenizer counts.
 */
@ApplicationScoped
public class SimulatedProvider implements Provider {

  public static final String NAME = "simulated";
  private static final String FINGERPRINT = "atelier-simulated";
  private static final int WORDS_PER_CHUNK = 3;

  private final ObjectMapper mapper;
  private final TokenCounter tokens;
  private final SimulatedLatency latency;
  private final SimulatedEmbeddings embeddings;

  SimulatedProvider(ObjectMapper mapper, TokenCounter tokens, SimulatedLatency latency) {
    this.embeddings = new SimulatedEmbeddings(mapper, tokens);
    this.mapper = mapper;
    this.tokens = tokens;
    this.latency = latency;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public boolean simulated() {
    return true;
  }

  @Override
  public Uni<Completion> complete(ProviderCall call) {
    Uni<Completion> answer = Uni.createFrom().item(() -> toCompletion(answer(call)));
    return delayed(answer);
  }

  @Override
  public Multi<StreamEvent> stream(ProviderCall call) {
    return delayed(Uni.createFrom().item(() -> chunks(answer(call))))
        .onItem()
        .transformToMulti(list -> Multi.createFrom().iterable(list));
  }

  @Override
  public Uni<Completion> embed(EmbeddingCall call) {
    return delayed(Uni.createFrom().item(() -> embeddings.embed(call)));
  }

  private <T> Uni<T> delayed(Uni<T> uni) {
    Duration d = latency.next();
    return d.isZero() ? uni : uni.onItem().delayIt().by(d);
  }

  /** The simulated answer to a call, before it is shaped as a response or as chunks. */
  record Answer(
      String id,
      long created,
      String model,
      String content,
      ArrayNode toolCalls,
      String finishReason,
      Usage usage) {}

  Answer answer(ProviderCall call) {
    ChatRequest request = call.request();
    if (request.n() != 1) {
      throw GatewayException.invalid("n", "The simulated provider answers with n=1 only");
    }
    long seed = seed(request);
    PromptWords prompt = new PromptWords(request.lastUserText());
    String model = call.upstreamModel();
    ArrayNode toolCalls = forcedToolCall(request, prompt, seed);
    String content = null;
    String finish = "stop";
    if (toolCalls != null) {
      finish = "tool_calls";
    } else {
      content = content(request, prompt, seed);
      Integer max = request.maxTokens();
      if (max != null && tokens.count(model, content) > max) {
        content = tokens.truncate(model, content, max);
        finish = "length";
      }
    }
    long promptTokens = tokens.promptTokens(model, request.body());
    long completionTokens =
        tokens.completionTokens(model, content, toolCalls == null ? null : toolCalls.toString());
    Usage usage = new Usage(promptTokens, 0, completionTokens, 0, LlmCallRecorded.USAGE_PROVIDER);
    return new Answer(
        "chatcmpl-" + TimeOrderedIds.next().toString().replace("-", ""),
        Instant.now().getEpochSecond(),
        model,
        content,
        toolCalls,
        finish,
        usage);
  }

  private String content(ChatRequest request, PromptWords prompt, long seed) {
    ChatRequest.ResponseFormat format = request.responseFormat();
    try {
      return switch (format.type()) {
        case JSON_SCHEMA ->
            mapper.writeValueAsString(new SchemaSampler(format.schema(), prompt, seed).sample());
        case JSON_OBJECT -> {
          ObjectNode o = mapper.createObjectNode();
          o.put("topic", prompt.topic());
          o.put("summary", summary(prompt));
          o.put("simulated", true);
          yield mapper.writeValueAsString(o);
        }
        case TEXT -> text(prompt);
      };
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String text(PromptWords prompt) {
    return prompt.topic()
        + ": this is a simulated answer from the Atelier gateway. "
        + PromptWords.capitalize(summary(prompt))
        + ".";
  }

  private static String summary(PromptWords prompt) {
    return "it covers " + prompt.window(0, Math.min(Math.max(prompt.size(), 3), 24));
  }

  /**
   * A tool call when the caller forces one ({@code tool_choice} "required" or a named function):
   * its arguments conform to the function's parameter schema.
   */
  private ArrayNode forcedToolCall(ChatRequest request, PromptWords prompt, long seed) {
    JsonNode tools = request.body().get("tools");
    JsonNode choice = request.body().get("tool_choice");
    if (tools == null || !tools.isArray() || tools.isEmpty() || choice == null) {
      return null;
    }
    JsonNode function = null;
    if (choice.isTextual() && "required".equals(choice.asText())) {
      function = tools.get(0).path("function");
    } else if (choice.isObject()) {
      String wanted = choice.path("function").path("name").asText("");
      for (JsonNode t : tools) {
        if (wanted.equals(t.path("function").path("name").asText())) {
          function = t.path("function");
        }
      }
    }
    if (function == null || function.isMissingNode()) {
      return null;
    }
    JsonNode parameters = function.get("parameters");
    JsonNode args =
        parameters == null || !parameters.isObject()
            ? mapper.createObjectNode()
            : new SchemaSampler(parameters, prompt, seed, "tools").sample();
    ArrayNode calls = mapper.createArrayNode();
    ObjectNode call = calls.addObject();
    call.put("id", "call_" + Long.toHexString(seed));
    call.put("type", "function");
    ObjectNode fn = call.putObject("function");
    fn.put("name", function.path("name").asText("function"));
    fn.put("arguments", args.toString());
    return calls;
  }

  private Completion toCompletion(Answer a) {
    ObjectNode root = mapper.createObjectNode();
    root.put("id", a.id());
    root.put("object", "chat.completion");
    root.put("created", a.created());
    root.put("model", a.model());
    root.put("system_fingerprint", FINGERPRINT);
    ObjectNode choice = root.putArray("choices").addObject();
    choice.put("index", 0);
    ObjectNode message = choice.putObject("message");
    message.put("role", "assistant");
    message.put("content", a.content());
    message.set("refusal", NullNode.instance);
    if (a.toolCalls() != null) {
      message.set("tool_calls", a.toolCalls());
    }
    choice.set("logprobs", NullNode.instance);
    choice.put("finish_reason", a.finishReason());
    root.set("usage", usageNode(a.usage()));
    try {
      return new Completion(mapper.writeValueAsBytes(root), root, Optional.of(a.usage()));
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  private List<StreamEvent> chunks(Answer a) {
    List<StreamEvent> events = new ArrayList<>();
    ObjectNode first = chunk(a);
    ObjectNode firstDelta = delta(first);
    firstDelta.put("role", "assistant");
    firstDelta.put("content", a.toolCalls() == null ? "" : null);
    firstDelta.set("refusal", NullNode.instance);
    events.add(event(first));
    if (a.toolCalls() != null) {
      ObjectNode c = chunk(a);
      ArrayNode calls = delta(c).putArray("tool_calls");
      for (int i = 0; i < a.toolCalls().size(); i++) {
        ObjectNode call = ((ObjectNode) a.toolCalls().get(i)).deepCopy();
        call.put("index", i);
        calls.add(call);
      }
      events.add(event(c));
    } else {
      for (String piece : pieces(a.content())) {
        ObjectNode c = chunk(a);
        delta(c).put("content", piece);
        events.add(event(c));
      }
    }
    ObjectNode last = chunk(a);
    delta(last);
    ((ObjectNode) last.get("choices").get(0)).put("finish_reason", a.finishReason());
    events.add(event(last));
    ObjectNode usage = base(a);
    usage.putArray("choices");
    usage.set("usage", usageNode(a.usage()));
    events.add(event(usage));
    return events;
  }

  /** The content in pieces of a few words, whitespace kept, so the pieces join back exactly. */
  static List<String> pieces(String content) {
    List<String> pieces = new ArrayList<>();
    int start = 0;
    int words = 0;
    for (int i = 1; i < content.length(); i++) {
      if (Character.isWhitespace(content.charAt(i))
          && !Character.isWhitespace(content.charAt(i - 1))) {
        if (++words == WORDS_PER_CHUNK) {
          pieces.add(content.substring(start, i));
          start = i;
          words = 0;
        }
      }
    }
    if (start < content.length()) {
      pieces.add(content.substring(start));
    }
    return pieces;
  }

  private ObjectNode base(Answer a) {
    ObjectNode c = mapper.createObjectNode();
    c.put("id", a.id());
    c.put("object", "chat.completion.chunk");
    c.put("created", a.created());
    c.put("model", a.model());
    c.put("system_fingerprint", FINGERPRINT);
    return c;
  }

  private ObjectNode chunk(Answer a) {
    ObjectNode c = base(a);
    ObjectNode choice = c.putArray("choices").addObject();
    choice.put("index", 0);
    choice.putObject("delta");
    choice.set("logprobs", NullNode.instance);
    choice.set("finish_reason", NullNode.instance);
    return c;
  }

  private static ObjectNode delta(ObjectNode chunk) {
    return (ObjectNode) chunk.get("choices").get(0).get("delta");
  }

  private StreamEvent event(ObjectNode node) {
    return new StreamEvent(node.toString(), node);
  }

  private ObjectNode usageNode(Usage u) {
    ObjectNode usage = mapper.createObjectNode();
    usage.put("prompt_tokens", u.input());
    usage.put("completion_tokens", u.output());
    usage.put("total_tokens", u.total());
    usage.putObject("prompt_tokens_details").put("cached_tokens", u.cachedInput());
    usage.putObject("completion_tokens_details").put("reasoning_tokens", u.reasoning());
    return usage;
  }

  /**
   * A seed from what determines the answer: model, messages, tools, tool choice and response
   * format; not stream flags, so a streamed and a plain call get the same content.
   */
  static long seed(ChatRequest request) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      for (String field : List.of("model", "messages", "tools", "tool_choice", "response_format")) {
        JsonNode v = request.body().get(field);
        sha.update(field.getBytes(StandardCharsets.UTF_8));
        sha.update((byte) 0);
        sha.update((v == null ? "" : v.toString()).getBytes(StandardCharsets.UTF_8));
        sha.update((byte) 0);
      }
      byte[] h = sha.digest();
      long seed = 0;
      for (int i = 0; i < 8; i++) {
        seed = (seed << 8) | (h[i] & 0xff);
      }
      return seed;
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is always available", e);
    }
  }
}
