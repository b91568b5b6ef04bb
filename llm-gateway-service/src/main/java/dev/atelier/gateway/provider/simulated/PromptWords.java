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

  private static final Set<String> STOP =
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
    List<String> found = new ArrayList<>();
    for (String raw : (prompt == null ? "" : prompt).split("[^\\p{L}\\p{N}'-]+")) {
      String w = raw.replaceAll("^['-]+|['-]+$", "");
      if (w.length() >= 3 && !STOP.contains(w.toLowerCase(Locale.ROOT))) {
        found.add(w);
      }
    }
    this.words = List.copyOf(found);
    this.topic =
        words.isEmpty()
            ? FALLBACK_TOPIC
            : capitalize(join(words.subList(0, Math.min(2, words.size()))));
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
