package dev.atelier.worker.service;

import java.util.List;

/**
 * The messages of a step's first LLM call.
 *
 * @param truncations one note per input that was cut to fit the context limit
 */
public record RenderedPrompt(String system, String user, List<String> truncations) {

  public RenderedPrompt {
    truncations = List.copyOf(truncations);
  }
}
