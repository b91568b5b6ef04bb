package dev.atelier.worker.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.atelier.contracts.StepFailed;
import dev.atelier.worker.service.Clip;
import dev.langchain4j.exception.HttpException;
import dev.langchain4j.exception.NonRetriableException;
import dev.langchain4j.exception.RetriableException;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import io.smallrye.faulttolerance.api.ExponentialBackoff;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.net.ConnectException;
import java.time.temporal.ChronoUnit;
import org.eclipse.microprofile.faulttolerance.Retry;
import org.jboss.logging.Logger;

/**
 * Chat completions through llm-gateway-service's OpenAI-compatible endpoint, via the ChatModel that
 * quarkus-langchain4j configures ({@code quarkus.langchain4j.openai.*}). Retries are left to the
 * orchestrator's step retry policy (langchain4j makes one attempt), so a failure here is classified
 * once: retryable or not. The exception is a gateway that refuses the connection (restarting, not
 * up yet): nothing reached it, so nothing can be charged twice, and the call is tried again here
 * with exponential backoff (250 ms doubling to 5 s) for up to two minutes ({@code
 * WORKER_GATEWAY_UNREACHABLE_RETRY_FOR_MS}), as {@link ContextClient} does for context-service: a
 * gateway restart should not spend a step's attempts. A 503 without an OpenAI error body is the
 * same case: a gateway draining for shutdown, or a proxy with no gateway behind it. So is a 409
 * {@code idempotency_key_in_use}: the gateway is still making this call (same {@link LlmCallKey})
 * for an earlier run of the step attempt, and will answer a repeat from that call's answer. And so
 * is a keyed call whose connection was lost before it was answered (the gateway died mid-call, a
 * proxy cut it): asked again under its key, it is answered from the first call's answer, or 409
 * while that call runs, or made again once a dead replica's claim on the key lapses; without a key
 * it would be a second paid call, and fails the step's attempt instead.
 */
@ApplicationScoped
public class GatewayChat {

  private static final int MAX_DETAIL = 300;
  private static final int MAX_PARAM = 100;
  static final String IDEMPOTENCY_KEY_IN_USE = "idempotency_key_in_use";
  static final String IDEMPOTENCY_UNAVAILABLE = "idempotency_unavailable";

  private static final Logger LOG = Logger.getLogger(GatewayChat.class);

  private final ChatModel model;
  private final ObjectMapper mapper;

  GatewayChat(ChatModel model, ObjectMapper mapper) {
    this.model = model;
    this.mapper = mapper;
  }

  /**
   * Sends one chat request.
   *
   * @throws GatewayException when the gateway cannot be reached or answers with an error
   */
  @Retry(
      maxRetries = -1,
      delay = 250,
      jitter = 100,
      maxDuration = 120_000,
      retryOn = {GatewayUnreachableException.class, CallInDoubtException.class})
  @ExponentialBackoff(maxDelay = 5, maxDelayUnit = ChronoUnit.SECONDS)
  public ChatResponse chat(ChatRequest request) {
    try {
      return model.chat(request);
    } catch (RuntimeException e) {
      throw classify(e);
    }
  }

  GatewayException classify(RuntimeException e) {
    if (find(e, ConnectException.class) != null) {
      // Refused, or not accepted in time: no request was sent.
      String why = String.valueOf(rootCause(e).getMessage());
      LOG.debugf("no connection to the LLM gateway: %s", why);
      return new GatewayUnreachableException(
          "the LLM gateway cannot be connected to (" + why + ")", e);
    }
    HttpException http = find(e, HttpException.class);
    if (http != null) {
      int status = http.statusCode();
      boolean retryable = status == 408 || status == 425 || status == 429 || status >= 500;
      ErrorBody error = errorBody(http.getMessage());
      if (status == 503 && error == ErrorBody.NONE) {
        // Every error of the gateway's own has an OpenAI error body. A bare 503 comes from in
        // front of its handlers: a gateway draining for shutdown (it refuses new calls while it
        // finishes the running ones) or a proxy with no gateway behind it. Nothing was sent to a
        // provider, so it is waited out like a refused connection, not charged to the step.
        LOG.debugf("the LLM gateway is not taking calls (503 without an error body)");
        return new GatewayUnreachableException(
            "the LLM gateway is not taking calls (503 without an error body: stopping or starting)",
            e);
      }
      if ((status == 408 || status == 502 || status == 504)
          && error == ErrorBody.NONE
          && LlmCallKey.current().isPresent()) {
        // Not the gateway's answer (its errors have a body) but a proxy's in front of it, which
        // gave up on the gateway or lost it: the gateway may still be making the call.
        LOG.debugf("a proxy answered %d without an error body for a keyed call", status);
        return new CallInDoubtException(
            "a proxy in front of the LLM gateway answered "
                + status
                + " without an error body; asked again under the call's Idempotency-Key, whose"
                + " call the gateway may still be making",
            e);
      }
      if (status == 503 && IDEMPOTENCY_UNAVAILABLE.equals(error.code())) {
        // The gateway could not look the key up, and called nothing: as a gateway not taking calls.
        return new GatewayUnreachableException(
            "the LLM gateway cannot look up the call's Idempotency-Key now" + error.detail(), e);
      }
      if (status == 409 && IDEMPOTENCY_KEY_IN_USE.equals(error.code())) {
        LOG.debugf("an earlier run's call with this Idempotency-Key is still running");
        return new CallStillRunningException(
            "the LLM gateway is still making this call for an earlier run of the step attempt"
                + error.detail(),
            e);
      }
      if (StepFailed.BUDGET_EXCEEDED.equals(error.code())) {
        // Spending more cannot fix it: only a raised budget can, which is the user's decision.
        retryable = false;
      }
      return new GatewayException(
          retryable,
          status,
          error.code(),
          error.param(),
          "the LLM gateway answered " + status + error.detail(),
          e);
    }
    if (LlmCallKey.current().isPresent() && timedOut(e)) {
      // The gateway runs a call to its end though its caller hangs up (the provider bills it
      // anyway): another model now would be a second paid call. Asked again under its key, the
      // gateway answers 409 while the call runs, then from its answer.
      String why = rootCause(e).getClass().getSimpleName();
      LOG.debugf("the LLM gateway did not answer a keyed call in time (%s)", why);
      return new CallInDoubtException(
          "the LLM gateway did not answer within GATEWAY_TIMEOUT ("
              + why
              + "); asked again under the call's Idempotency-Key, whose call it may still be"
              + " making",
          e);
    }
    if (find(e, NonRetriableException.class) != null) {
      return new GatewayException(false, "the LLM gateway rejected the request", e);
    }
    if (find(e, RetriableException.class) != null) {
      return new GatewayException(true, "the LLM gateway did not answer in time", e);
    }
    // Connection reset: the request may not even have reached the gateway, or may be running
    // there still. Under its key it is asked again here;
    // without, another attempt is reasonable (the step's, not this call's).
    if (LlmCallKey.current().isPresent() && connectionLost(e)) {
      String why = rootCause(e).getClass().getSimpleName();
      LOG.debugf("the connection to the LLM gateway was lost mid-call (%s)", why);
      return new CallInDoubtException(
          "the connection to the LLM gateway was lost before it answered ("
              + why
              + "); asked again under the call's Idempotency-Key",
          e);
    }
    return new GatewayException(
        true,
        "the LLM gateway is unreachable (" + rootCause(e).getClass().getSimpleName() + ")",
        e);
  }

  /**
   * The error message and code from an OpenAI-style ({@code error.message}, {@code error.code}) or
   * problem+json ({@code detail}) body, the message shortened. Only these fields are used: a raw
   * body might echo anything.
   */
  private ErrorBody errorBody(String body) {
    if (body == null || body.isBlank()) {
      return ErrorBody.NONE;
    }
    try {
      JsonNode tree = mapper.readTree(body);
      String message = tree.path("error").path("message").textValue();
      if (message == null) {
        message = tree.path("detail").textValue();
      }
      String code = tree.path("error").path("code").textValue();
      String param = tree.path("error").path("param").textValue();
      if (param != null && (param.isBlank() || param.length() > MAX_PARAM)) {
        param = null;
      }
      if (message == null || message.isBlank()) {
        return new ErrorBody("", code, param);
      }
      String shown = Clip.clip(message, MAX_DETAIL);
      return new ErrorBody(
          ": " + shown + (param == null ? "" : " (parameter " + param + ")"), code, param);
    } catch (IOException | RuntimeException notJson) {
      return ErrorBody.NONE;
    }
  }

  private record ErrorBody(String detail, String code, String param) {
    static final ErrorBody NONE = new ErrorBody("", null, null);
  }

  /** True when the call timed out: a timeout anywhere in the failure's causes. */
  static boolean timedOut(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t.getClass().getName().contains("Timeout")) {
        return true;
      }
    }
    return false;
  }

  /**
   * True when the connection failed under the request, not the request or its answer: an I/O
   * failure that is neither a timeout ({@link #timedOut}) nor one of reading JSON (the same answer
   * would fail the same way).
   */
  static boolean connectionLost(Throwable e) {
    boolean io = false;
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      String name = t.getClass().getName();
      if (name.contains("Timeout") || t instanceof com.fasterxml.jackson.core.JacksonException) {
        return false;
      }
      io |= t instanceof IOException || name.equals("io.vertx.core.http.HttpClosedException");
    }
    return io;
  }

  private static <T extends Throwable> T find(Throwable e, Class<T> type) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (type.isInstance(t)) {
        return type.cast(t);
      }
    }
    return null;
  }

  private static Throwable rootCause(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t;
  }
}
