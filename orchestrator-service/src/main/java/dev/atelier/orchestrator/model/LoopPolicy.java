package dev.atelier.orchestrator.model;

/**
 * Sends the workflow back to an earlier step when a step ends with a given verdict, at most {@code
 * maxIterations} times; after that the workflow proceeds.
 *
 * @param onVerdict the verdict that loops, for example {@code changes_requested}
 * @param to the step to run again (an ancestor of the looping step)
 * @param maxIterations how many times the loop may fire
 */
public record LoopPolicy(String onVerdict, String to, Integer maxIterations) {

  public LoopPolicy {
    maxIterations = maxIterations == null ? 2 : maxIterations;
  }
}
