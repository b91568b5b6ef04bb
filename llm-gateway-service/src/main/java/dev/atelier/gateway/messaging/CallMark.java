package dev.atelier.gateway.messaging;

/**
 * A mark in a {@link MarkFile}: a call sent to a provider ({@link LlmCallPublisher#sent}), which a
 * process that dies before clearing it leaves to be recorded as interrupted at the next start; or
 * an Idempotency-Key held ({@link HeldKeys#hold}), which the next start lets go of.
 */
@FunctionalInterface
public interface CallMark {

  /** Nothing to clear: the call was not marked. */
  CallMark NONE = () -> {};

  /** Clears the mark; later calls do nothing. */
  void clear();
}
