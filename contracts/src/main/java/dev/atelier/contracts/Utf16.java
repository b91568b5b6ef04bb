package dev.atelier.contracts;

/**
 * Halves of UTF-16 surrogate pairs standing alone: valid in JSON (an escaped {@code \ud800}) and in
 * a Java string, but no character. No encoding carries one (the PostgreSQL driver sends it as '?',
 * jsonb refuses it), so the services refuse or drop them where text enters.
 */
public final class Utf16 {

  private Utf16() {}

  /** Whether the char at {@code i} is half of a surrogate pair whose other half is missing. */
  public static boolean unpairedSurrogateAt(String s, int i) {
    char c = s.charAt(i);
    if (Character.isHighSurrogate(c)) {
      return i + 1 == s.length() || !Character.isLowSurrogate(s.charAt(i + 1));
    }
    return Character.isLowSurrogate(c) && (i == 0 || !Character.isHighSurrogate(s.charAt(i - 1)));
  }

  /**
   * Where to cut {@code text} to keep at most {@code max} chars without splitting a surrogate pair:
   * {@code max}, or one less.
   */
  public static int cutAt(String text, int max) {
    return max > 0 && Character.isHighSurrogate(text.charAt(max - 1)) ? max - 1 : max;
  }

  /** The index of the first half of a pair standing alone in {@code s}, or -1. */
  public static int firstUnpairedSurrogate(String s) {
    for (int i = 0; i < s.length(); i++) {
      if (unpairedSurrogateAt(s, i)) {
        return i;
      }
    }
    return -1;
  }
}
