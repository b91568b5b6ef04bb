package dev.atelier.worker.service;

import com.fasterxml.jackson.databind.JsonNode;
import dev.atelier.contracts.AgentSpec;
import dev.atelier.worker.client.CallInDoubtException;
import dev.atelier.worker.client.GatewayChat;
import dev.atelier.worker.client.GatewayException;
import dev.atelier.worker.client.LlmCallKey;
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
import dev.langchain4j.model.output.FinishReason;
import dev.langchain4j.model.output.TokenUsage;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.jboss.logging.Logger;

/**
 * Asks the model for the step's output and insists on a schema-conforming answer. Each call
 * requests structured output ({@code response_format} json_schema with the role's schema); an
 * answer that is not JSON or does not conform is sent back with the validation errors and re-asked
 * up to {@code worker.repair-attempts} times, then the step fails with {@code output_invalid}. When
 * the model is unavailable the agent's fallback models are tried in order.
 *
 * <p>Not every model takes {@code json_schema}. For those listed in {@code
 * worker.json-object-models}, and for a model that refuses a {@code json_schema} request with a 400
 * naming {@code response_format} (learned at run time, for that model and that schema only: a
 * provider may refuse one schema's keywords and take another's), the call asks for {@code
 * json_object} and carries the schema in the system prompt instead; the answer is validated against
 * the schema all the same.
 *
 * <p>Every call, repairs and fallback models included, is made only while the attempt's deadline
 * has not passed, and is abandoned when it does (the wait for the gateway, its reconnection retries
 * included, is cut to the time left): the orchestrator has given up on the attempt by then.
 */
@ApplicationScoped
public class AgentInvoker {

  private static final Logger LOG = Logger.getLogger(AgentInvoker.class);
  private static final int ERRORS_SHOWN = 5;

  private final GatewayChat gateway;
  private final WorkerConfig config;

  /** Models configured for {@code json_object}, whatever the schema. */
  private final Set<String> jsonObjectModels = ConcurrentHashMap.newKeySet();

  private static final int MAX_REFUSALS = 1_000;

  /** Model and schema pairs ({@link #refusalKey}) a provider refused {@code json_schema} for. */
  private final Set<String> refusedJsonSchema = ConcurrentHashMap.newKeySet();

  /**
   * Runs the calls of steps with a deadline, so the step's thread can stop waiting when it passes;
   * an abandoned call is interrupted. Daemon threads, reused.
   */
  private final ExecutorService callThreads =
      Executors.newCachedThreadPool(
          new ThreadFactory() {
            private final AtomicInteger count = new AtomicInteger();

            @Override
            public Thread newThread(Runnable r) {
              Thread t = new Thread(r, "llm-call-" + count.incrementAndGet());
              t.setDaemon(true);
              return t;
            }
          });

  AgentInvoker(GatewayChat gateway, WorkerConfig config) {
    this.gateway = gateway;
    this.config = config;
    config.jsonObjectModels().ifPresent(jsonObjectModels::addAll);
  }

  @PreDestroy
  void stop() {
    callThreads.shutdownNow();
  }

  /**
   * Runs the conversation until the answer conforms to {@code schema}.
   *
   * @param deadline the attempt's deadline, or {@code null} for none
   * @param attemptKey names the step attempt ({@code <stepId>:<attempt>}) in each call's {@code
   *     Idempotency-Key}, or {@code null} to send none: a later run of the same attempt making the
   *     same call is then answered by the gateway from the first run's answer, unpaid
   * @param beforeCall run before every call; throws a {@link StepFailure} when no more calls are
   *     wanted (the workflow has ended)
   * @throws StepFailure {@code output_invalid}, {@code provider_unavailable}, {@code
   *     provider_rejected}, {@code deadline_exceeded} or what {@code beforeCall} throws
   */
  public Answer invoke(
      AgentSpec agent,
      RenderedPrompt prompt,
      JsonSchema responseSchema,
      Validation validation,
      Instant deadline,
      String attemptKey,
      Runnable beforeCall) {
    CallKeys keys = attemptKey == null ? null : new CallKeys(attemptKey);
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
    int promptMessages = messages.size();
    for (int call = 1; call <= calls; call++) {
      ChatResponse response = chat(agent, messages, format, usage, deadline, keys, beforeCall);
      String text = response.aiMessage() == null ? null : response.aiMessage().text();
      OutputValidator.Result result = validation.check(text);
      if (result.valid()) {
        return new Answer(result.value(), call, usage.input, usage.output, usage.responseModel);
      }
      if (response.finishReason() == FinishReason.LENGTH) {
        // Cut off at max_tokens: asked again, the model is cut off again (and each repair sends
        // the cut answer back), so the step fails now, saying why.
        throw new StepFailure(
            StepFailure.OUTPUT_INVALID,
            false,
            "the model's answer was cut off at its output token limit ("
                + (agent.maxTokens() == null ? "the model's own" : "maxTokens " + agent.maxTokens())
                + ") before it was complete; raise the role's maxTokens");
      }
      errors = result.errors();
      LOG.debugf("answer %d of %d for %s does not conform: %s", call, calls, agent.role(), errors);
      // A repair shows the last answer and what is wrong with it, not every earlier one: each
      // would be paid for again as input tokens on every later call.
      messages.subList(promptMessages, messages.size()).clear();
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
      AgentSpec agent,
      List<ChatMessage> messages,
      ResponseFormat format,
      Usage usage,
      Instant deadline,
      CallKeys keys,
      Runnable beforeCall) {
    List<String> models = new ArrayList<>();
    models.add(agent.model());
    models.addAll(agent.fallbackModels());
    for (int i = 0; ; ) {
      beforeCall.run();
      String model = models.get(i);
      boolean jsonObject =
          jsonObjectModels.contains(model) || refusedJsonSchema.contains(refusalKey(model, agent));
      ChatRequest request =
          ChatRequest.builder()
              .messages(jsonObject ? withSchemaInstruction(messages, agent) : List.copyOf(messages))
              .parameters(
                  ChatRequestParameters.builder()
                      .modelName(model)
                      .temperature(
                          agent.temperature() == null ? null : agent.temperature().doubleValue())
                      .maxOutputTokens(agent.maxTokens())
                      .responseFormat(jsonObject ? ResponseFormat.JSON : format)
                      .build())
              .build();
      try {
        ChatResponse response =
            call(request, keys == null ? null : keys.next(request), deadline, usage);
        usage.add(response);
        return response;
      } catch (GatewayException e) {
        if (e.budgetExceeded()) {
          throw StepFailure.budgetExceeded(e.getMessage(), e.param());
        }
        if (!jsonObject && e.structuredOutputUnsupported()) {
          LOG.infof(
              "model %s does not take response_format json_schema with the schema of %s (%s);"
                  + " asking it for json_object with the schema in the prompt from now on",
              model, agent.role(), e.getMessage());
          if (refusedJsonSchema.size() >= MAX_REFUSALS) {
            // Schemas change with role edits; forgetting only costs one refused call each.
            refusedJsonSchema.clear();
          }
          refusedJsonSchema.add(refusalKey(model, agent));
          continue; // the same model again, in json_object mode
        }
        if (e instanceof CallInDoubtException) {
          // The gateway may still make this call (for an earlier run, or for this one over a lost
          // connection): another model would be another paid call while that one may yet answer.
          // Another attempt, later, is the next step.
          throw new StepFailure(StepFailure.PROVIDER_UNAVAILABLE, true, e.getMessage());
        }
        if (e.retryable() && i + 1 < models.size()) {
          LOG.warnf(
              "model %s unavailable for %s (%s); trying %s",
              model, agent.role(), e.getMessage(), models.get(i + 1));
          i++;
          continue;
        }
        throw new StepFailure(
            e.retryable() ? StepFailure.PROVIDER_UNAVAILABLE : StepFailure.PROVIDER_REJECTED,
            e.retryable(),
            e.getMessage());
      }
    }
  }

  private static String refusalKey(String model, AgentSpec agent) {
    return model + "\n" + agent.outputSchema();
  }

  /**
   * One gateway call. Should the gateway find its key used by an earlier run for a different body
   * (422 {@code idempotency_key_reused}: the worker now builds the same call otherwise, say after
   * an upgrade), the call is made under a key of its own: a new call, paid, as it must be.
   */
  private ChatResponse call(ChatRequest request, String key, Instant deadline, Usage usage) {
    try {
      return callUntilKnown(request, key, deadline, usage);
    } catch (GatewayException e) {
      if (key == null || !e.keyReused()) {
        throw e;
      }
      LOG.infof(
          "an earlier run of this step attempt sent another request under key %s; calling"
              + " again under a new key",
          key);
      return callOnce(request, key + ":" + UUID.randomUUID(), deadline, usage);
    }
  }

  /**
   * One gateway call; one still in doubt after its retries (a lost connection, no answer within
   * {@code GATEWAY_TIMEOUT}, 409 while the gateway still makes it) is asked for once more, under
   * the same key, with retries as long again: the retries' time counts from the call's first send,
   * so a call lost after running for most of it would otherwise get none that outlasts a dead
   * replica's claim.
   */
  private ChatResponse callUntilKnown(
      ChatRequest request, String key, Instant deadline, Usage usage) {
    try {
      return callOnce(request, key, deadline, usage);
    } catch (CallInDoubtException e) {
      // Only a keyed call is in doubt (GatewayChat): asked again under the same key.
      LOG.infof(
          "the LLM call under key %s is still in doubt (%s); asking again", key, e.getMessage());
      return callOnce(request, key, deadline, usage);
    }
  }

  /** One gateway call, given up when the deadline passes first. */
  private ChatResponse callOnce(ChatRequest request, String key, Instant deadline, Usage usage) {
    // The step's context (trace, attribution headers) goes with the call, and the call's key.
    Context context = key == null ? Context.current() : LlmCallKey.storeIn(Context.current(), key);
    if (deadline == null) {
      try (Scope ignored = context.makeCurrent()) {
        return gateway.chat(request);
      }
    }
    long left = Duration.between(Instant.now(), deadline).toMillis();
    if (left <= 0) {
      throw deadlinePassed(deadline, usage);
    }
    Future<ChatResponse> call = callThreads.submit(context.wrap(() -> gateway.chat(request)));
    try {
      return call.get(left, TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      call.cancel(true);
      throw deadlinePassed(deadline, usage);
    } catch (InterruptedException e) {
      call.cancel(true);
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for the LLM gateway", e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      if (e.getCause() instanceof Error err) {
        throw err;
      }
      throw new IllegalStateException(e.getCause());
    }
  }

  private static StepFailure deadlinePassed(Instant deadline, Usage usage) {
    return new StepFailure(
        StepFailure.DEADLINE_EXCEEDED,
        true,
        "the attempt's deadline "
            + deadline
            + " passed while it waited for the model ("
            + usage.calls
            + (usage.calls == 1 ? " call answered)" : " calls answered)"));
  }

  /**
   * The conversation with the output schema stated in the system prompt, for a model asked for
   * {@code json_object}, which then knows only that it must answer JSON, not which JSON.
   */
  static List<ChatMessage> withSchemaInstruction(List<ChatMessage> messages, AgentSpec agent) {
    String instruction =
        "Answer with a single JSON document, and nothing else, that conforms to this JSON"
            + " Schema:\n"
            + agent.outputSchema().toString();
    List<ChatMessage> out = new ArrayList<>(messages.size() + 1);
    boolean placed = false;
    for (ChatMessage m : messages) {
      if (!placed && m instanceof SystemMessage system) {
        out.add(SystemMessage.from(system.text() + "\n\n" + instruction));
        placed = true;
      } else {
        out.add(m);
      }
    }
    if (!placed) {
      out.add(0, SystemMessage.from(instruction));
    }
    return out;
  }

  private static String repairRequest(List<String> errors) {
    return "Your previous answer is not valid for the required JSON Schema:\n- "
        + String.join("\n- ", errors.subList(0, Math.min(20, errors.size())))
        + "\nAnswer again with only the corrected JSON document, conforming to the schema.";
  }

  /**
   * The {@code Idempotency-Key}s of one run of a step attempt: {@code <attempt>:<digest>:<n>}, the
   * digest over what the call sends (model, parameters, messages) and {@code n} counting calls of
   * the run with the same digest. A later run of the attempt that sends the same calls gets the
   * same keys whatever this run learned on the way (a fallback model, a model refusing
   * json_schema): a call it makes differently has another key, and is a new call.
   */
  static final class CallKeys {
    private final String attemptKey;
    private final Map<String, Integer> seen = new HashMap<>();

    CallKeys(String attemptKey) {
      this.attemptKey = attemptKey;
    }

    String next(ChatRequest request) {
      String digest = digest(request);
      int n = seen.merge(digest, 1, Integer::sum);
      return attemptKey + ":" + digest + ":" + n;
    }

    static String digest(ChatRequest request) {
      MessageDigest sha;
      try {
        sha = MessageDigest.getInstance("SHA-256");
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException(e);
      }
      ChatRequestParameters p = request.parameters();
      update(sha, p.modelName());
      update(sha, String.valueOf(p.temperature()));
      update(sha, String.valueOf(p.maxOutputTokens()));
      ResponseFormat format = p.responseFormat();
      update(sha, format == null ? "" : format.type().name());
      JsonSchema schema = format == null ? null : format.jsonSchema();
      update(sha, schema == null ? "" : schema.name());
      update(
          sha,
          schema == null
              ? ""
              : schema.rootElement() instanceof JsonRawSchema raw
                  ? raw.schema()
                  : String.valueOf(schema.rootElement()));
      for (ChatMessage m : request.messages()) {
        update(sha, m.type().name());
        update(sha, text(m));
      }
      return HexFormat.of().formatHex(sha.digest(), 0, 16);
    }

    private static String text(ChatMessage m) {
      if (m instanceof SystemMessage system) {
        return system.text();
      }
      if (m instanceof UserMessage user) {
        return user.hasSingleText() ? user.singleText() : user.contents().toString();
      }
      if (m instanceof AiMessage ai) {
        return String.valueOf(ai.text());
      }
      return m.toString();
    }

    /** Length-prefixed, so that no two sequences of strings digest alike by concatenation. */
    private static void update(MessageDigest sha, String s) {
      byte[] bytes = String.valueOf(s).getBytes(StandardCharsets.UTF_8);
      sha.update(ByteBuffer.allocate(4).putInt(bytes.length).array());
      sha.update(bytes);
    }
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
    int calls;
    long input;
    long output;
    String responseModel;

    void add(ChatResponse response) {
      calls++;
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
