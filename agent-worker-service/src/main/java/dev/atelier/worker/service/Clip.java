package dev.atelier.worker.service;

import dev.atelier.contracts.Utf16;

/**
 * Shortening text without splitting a character: half of a surrogate pair (an emoji, a rare CJK
 * character) left at the cut cannot be encoded, and context-service refuses text holding one.
 */
public final class Clip {

  private Clip() {}

  /** {@code text}, or its first (at most) {@code max} chars followed by "...". */
  public static String clip(String text, int max) {
    return text.length() <= max ? text : text.substring(0, Utf16.cutAt(text, max)) + "...";
  }
}
