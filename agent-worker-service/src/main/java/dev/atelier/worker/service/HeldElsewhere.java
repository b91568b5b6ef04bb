package dev.atelier.worker.service;

/**
 * Another worker runs this step attempt (it holds the attempt's lease): this delivery publishes
 * nothing and makes no LLM call, since that worker's result is the attempt's.
 */
public class HeldElsewhere extends RuntimeException {

  public HeldElsewhere(String message) {
    super(message, null, false, false);
  }
}
