package dev.atelier.gateway.provider.simulated;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The meaningful words of a prompt and a short topic drawn from them ("Order tracking page"), so
 * that simulated answers read like answers to that prompt rather than filler text.
 */
final class PromptWords {

  static final Set<String> STOP =
      Set.of(
          "a",
          "an",
          "the",
          "and",
          "or",
          "but",
          "of",
          "to",
          "in",
          "on",
          "for",
          "with",
          "by",
          "at",
          "from",
          "as",
          "is",
          "are",
          "was",
          "were",
          "be",
          "been",
          "it",
          "its",
          "this",
          "that",
          "these",
          "those",
          "we",
          "you",
          "they",
          "our",
          "your",
          "their",
          "i",
          "me",
          "my",
          "he",
          "she",
          "them",
          "us",
          "can",
          "could",
          "should",
          "would",
          "will",
          "shall",
          "may",
          "might",
          "must",
          "need",
          "needs",
          "want",
          "wants",
          "please",
          "write",
          "create",
          "build",
          "make",
          "produce",
          "generate",
          "give",
          "provide",
          "list",
          "describe",
          "implement",
          "design",
          "return",
          "using",
          "use",
          "into",
          "about",
          "each",
          "every",
          "all",
          "any",
          "some",
          "so",
          "then",
          "than",
          "when",
          "which",
          "who",
          "what",
          "how",
          "why",
          "where",
          "there",
          "here",
          "also",
          "not",
          "no",
          "do",
          "does",
          "did",
          "has",
          "have",
          "had",
          "let",
          "lets",
          "json",
          "schema",
          "answer",
          "respond",
          "following",
          "based",
          "given",
          "new",
          "one",
          "two",
          "user",
          "users",
          "requirement",
          "requirements",
          "task",
          "input",
          "output",
          "role");

  private static final String FALLBACK_TOPIC = "General request";

  private final List<String> words;
  private final String topic;

  PromptWords(String prompt) {
    this.words = List.copyOf(meaningfulWords(prompt == null ? "" : prompt));
    this.topic =
        words.isEmpty()
            ? FALLBACK_TOPIC
            : capitalize(join(words.subList(0, Math.min(2, words.size()))));
  }

  /**
   * The words of {@code text} (runs of letters, digits, apostrophes and hyphens, without leading or
   * trailing apostrophes and hyphens) of at least three characters that are not stop words. One
   * pass over the text: this runs on every simulated call, over the whole prompt, and splitting
   * with regular expressions made it a quarter of the gateway's CPU in the end-to-end benchmark.
   */
  static List<String> meaningfulWords(String text) {
    List<String> found = new ArrayList<>();
    int n = text.length();
    int i = 0;
    while (i < n) {
      int cp = text.codePointAt(i);
      if (!isWordChar(cp)) {
        i += Character.charCount(cp);
        continue;
      }
      int start = i;
      while (i < n && isWordChar(cp = text.codePointAt(i))) {
        i += Character.charCount(cp);
      }
      int end = i;
      while (start < end && isEdge(text.charAt(start))) {
        start++;
      }
      while (end > start && isEdge(text.charAt(end - 1))) {
        end--;
      }
      if (end - start >= 3) {
        String w = text.substring(start, end);
        if (!STOP.contains(w.toLowerCase(Locale.ROOT))) {
          found.add(w);
        }
      }
    }
    return found;
  }

  /** A letter or number of any script (Unicode categories L and N), an apostrophe or a hyphen. */
  private static boolean isWordChar(int cp) {
    if (isEdge(cp) || Character.isLetter(cp)) {
      return true;
    }
    int type = Character.getType(cp);
    return type == Character.DECIMAL_DIGIT_NUMBER
        || type == Character.LETTER_NUMBER
        || type == Character.OTHER_NUMBER;
  }

  private static boolean isEdge(int c) {
    return c == '\'' || c == '-';
  }

  /** The two leading meaningful words, first letter capitalised. */
  String topic() {
    return topic;
  }

  /** The topic in lower case, for use inside a sentence. */
  String topicLower() {
    return topic.toLowerCase(Locale.ROOT);
  }

  boolean isEmpty() {
    return words.isEmpty();
  }

  /**
   * Up to {@code count} words of the prompt starting at {@code offset} (wrapping round to the
   * start), lower case; never more words than the prompt has, so short prompts do not repeat.
   */
  String window(int offset, int count) {
    if (words.isEmpty()) {
      return topicLower();
    }
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < Math.min(count, words.size()); i++) {
      if (i > 0) {
        sb.append(' ');
      }
      sb.append(words.get(Math.floorMod(offset + i, words.size())).toLowerCase(Locale.ROOT));
    }
    return sb.toString();
  }

  int size() {
    return words.size();
  }

  static String capitalize(String s) {
    return s.isEmpty() ? s : Character.toUpperCase(s.charAt(0)) + s.substring(1);
  }

  private static String join(List<String> ws) {
    StringBuilder sb = new StringBuilder();
    for (String w : ws) {
      if (!sb.isEmpty()) {
        sb.append(' ');
      }
      sb.append(sb.isEmpty() ? w : w.toLowerCase(Locale.ROOT));
    }
    return sb.toString();
  }
}
