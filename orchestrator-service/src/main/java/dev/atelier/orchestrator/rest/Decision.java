package dev.atelier.orchestrator.rest;

/**
 * The body of cancel, approve and reject; optional.
 *
 * @param comment approve: feedback for the agent; reject: the reason, sent back as feedback with
 *     {@code onReject}; cancel: the reason
 */
public record Decision(String comment) {

  static String of(Decision d) {
    return d == null ? null : d.comment();
  }
}
