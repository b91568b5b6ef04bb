package dev.atelier.worker.service;

/**
 * Shortening text without splitting a character: half of a surrogate pair (an emoji, a rare CJK
 * character) left at the cut cannot be encoded, and context-service refuses text holding one.
 */
public final class Clip {

  private Clip() {}

  /** Where to cut {@code text} to at most {@code max} chars: {@code max}, or one less. */
  public static int cutAt(String text, int max) {
    return max > 0 && Character.isHighSurrogate(text.charAt(max - 1)) ? max - 1 : max;
  }

  /** {@code text}, or its first (at most) {@code max} chars followed by "...". */
  public static String clip(String text, int max) {
    return text.length() <= max ? text : text.substring(0, cutAt(text, max)) + "...";
  }
}
