package dev.atelier.gateway.messaging;

/**
 * A call marked as sent to a provider ({@link LlmCallPublisher#sent}): until it is cleared, a
 * process that dies leaves the call to be recorded as interrupted at the next start.
 */
@FunctionalInterface
public interface CallMark {

  /** Nothing to clear: the call was not marked. */
  CallMark NONE = () -> {};

  /** Clears the mark; later calls do nothing. */
  void clear();
}
