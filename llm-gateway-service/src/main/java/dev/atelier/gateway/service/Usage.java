package dev.atelier.gateway.service;

import com.fasterxml.jackson.databind.JsonNode;
import dev.atelier.contracts.LlmCallRecorded;
import java.util.Optional;

/**
 * Token counts of one call. {@code input} includes {@code cachedInput}; {@code output} includes
 * {@code reasoning} (OpenAI bills reasoning tokens as output and reports them inside {@code
 * completion_tokens}).
 *
 * @param source {@link LlmCallRecorded#USAGE_PROVIDER} or {@link LlmCallRecorded#USAGE_ESTIMATED}
 */
public record Usage(long input, long cachedInput, long output, long reasoning, String source) {

  public static final Usage NONE = new Usage(0, 0, 0, 0, LlmCallRecorded.USAGE_PROVIDER);

  /** Most tokens one count may hold: the ledger keeps counts of one call in 4-byte integers. */
  static final long MAX_COUNT = Integer.MAX_VALUE;

  public Usage {
    // What a provider reports is kept within what the ledger accepts: a negative count (and so a
    // negative cost, lowering a budget's spend) or one past 2^31 would dead-letter the record.
    input = bounded(input);
    output = bounded(output);
    // A provider that reports more cached than prompt tokens would otherwise produce a negative
    // uncached count and a cost below the true one.
    cachedInput = Math.min(bounded(cachedInput), input);
    reasoning = bounded(reasoning);
  }

  private static long bounded(long count) {
    return Math.min(Math.max(count, 0), MAX_COUNT);
  }

  public static Usage estimated(long input, long output) {
    return new Usage(input, 0, output, 0, LlmCallRecorded.USAGE_ESTIMATED);
  }

  /** This usage with {@code tokens} more input, marked estimated since they were not reported. */
  public Usage plusEstimatedInput(long tokens) {
    return new Usage(
        Math.min(input + tokens, MAX_COUNT),
        cachedInput,
        output,
        reasoning,
        LlmCallRecorded.USAGE_ESTIMATED);
  }

  public long total() {
    return input + output;
  }

  /**
   * Reads an OpenAI {@code usage} object, with {@code prompt_tokens_details.cached_tokens} and
   * {@code completion_tokens_details.reasoning_tokens} when present; empty when there is none.
   */
  public static Optional<Usage> fromOpenAi(JsonNode usage) {
    if (usage == null || !usage.isObject()) {
      return Optional.empty();
    }
    JsonNode prompt = usage.get("prompt_tokens");
    JsonNode completion = usage.get("completion_tokens");
    if ((prompt == null || !prompt.isNumber()) && (completion == null || !completion.isNumber())) {
      return Optional.empty();
    }
    return Optional.of(
        new Usage(
            usage.path("prompt_tokens").asLong(0),
            usage.path("prompt_tokens_details").path("cached_tokens").asLong(0),
            usage.path("completion_tokens").asLong(0),
            usage.path("completion_tokens_details").path("reasoning_tokens").asLong(0),
            LlmCallRecorded.USAGE_PROVIDER));
  }
}
