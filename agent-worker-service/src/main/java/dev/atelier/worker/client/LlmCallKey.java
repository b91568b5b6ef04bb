package dev.atelier.worker.client;

import io.opentelemetry.context.Context;
import io.opentelemetry.context.ContextKey;
import java.util.Optional;

/**
 * The {@code Idempotency-Key} of the LLM call being made, in the call's OpenTelemetry {@link
 * Context}; {@link AttributionHeaders} sends it. The gateway answers a repeat of a call with the
 * same key and body from the first call's answer, so a run of a step attempt that lost its answers
 * (its worker died, its message came back) does not pay for them again.
 */
public final class LlmCallKey {

  private static final ContextKey<String> KEY = ContextKey.named("atelier-llm-call-key");

  private LlmCallKey() {}

  /** {@code context} with {@code key} as the call's key. */
  public static Context storeIn(Context context, String key) {
    return context.with(KEY, key);
  }

  /** The key of the call being made, if any. */
  public static Optional<String> current() {
    return Optional.ofNullable(Context.current().get(KEY));
  }
}
