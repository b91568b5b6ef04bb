package dev.atelier.systemtest;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Just enough of a PromQL scanner to list the metric names an expression selects, with the {@code
 * job} it pins them to. Functions, aggregations, keywords, label names in {@code by (...)}, label
 * matchers, range durations, numbers and Grafana variables are not metric names.
 */
final class PromQl {

  /** A metric selector: its name and the exact {@code job="..."} matcher, if any. */
  record Selector(String name, Optional<String> job) {}

  // Aggregation operators may put their "by (...)" clause before the parentheses, so they are not
  // always followed by "(" and are listed here; every other function is recognised by its "(".
  private static final Set<String> AGGREGATIONS =
      Set.of(
          "sum",
          "min",
          "max",
          "avg",
          "group",
          "stddev",
          "stdvar",
          "count",
          "count_values",
          "bottomk",
          "topk",
          "quantile",
          "limitk",
          "limit_ratio");
  private static final Set<String> GROUPING =
      Set.of("by", "without", "on", "ignoring", "group_left", "group_right");
  private static final Set<String> KEYWORDS =
      Set.of("and", "or", "unless", "bool", "offset", "atan2", "inf", "nan");
  private static final Pattern JOB = Pattern.compile("(?<![\\w])job\\s*=\\s*\"([^\"]*)\"");

  private PromQl() {}

  /** The metric selectors of {@code expr}, in order of appearance. */
  static List<Selector> selectors(String expr) {
    List<Selector> out = new ArrayList<>();
    int i = 0;
    int n = expr.length();
    while (i < n) {
      char c = expr.charAt(i);
      if (c == '"' || c == '\'' || c == '`') {
        i = skipString(expr, i);
      } else if (c == '[') {
        i = expr.indexOf(']', i) + 1;
        if (i == 0) {
          throw new IllegalArgumentException("unclosed [ in " + expr);
        }
      } else if (c == '{') {
        // A label block with no name before it: {__name__=...} would need more; not used here.
        i = skipBlock(expr, i, '{', '}');
      } else if (c == '$') {
        i++;
        if (i < n && expr.charAt(i) == '{') {
          i = skipBlock(expr, i, '{', '}');
        } else {
          while (i < n && isIdentPart(expr.charAt(i))) {
            i++;
          }
        }
      } else if (Character.isDigit(c) || (c == '.' && i + 1 < n && isDigit(expr.charAt(i + 1)))) {
        // Numbers and durations: 0.95, 1e3, 5m, 0x1f.
        while (i < n && (isIdentPart(expr.charAt(i)) || expr.charAt(i) == '.')) {
          i++;
        }
      } else if (isIdentStart(c)) {
        int start = i;
        while (i < n && isIdentPart(expr.charAt(i))) {
          i++;
        }
        String word = expr.substring(start, i);
        int next = skipSpace(expr, i);
        boolean call = next < n && expr.charAt(next) == '(';
        if (GROUPING.contains(word)) {
          if (call) {
            i = skipBlock(expr, next, '(', ')');
          }
        } else if (AGGREGATIONS.contains(word) || KEYWORDS.contains(word) || call) {
          // not a metric
        } else {
          Optional<String> job = Optional.empty();
          if (next < n && expr.charAt(next) == '{') {
            int end = skipBlock(expr, next, '{', '}');
            Matcher m = JOB.matcher(expr.substring(next, end));
            if (m.find()) {
              job = Optional.of(m.group(1));
            }
            i = end;
          }
          out.add(new Selector(word, job));
        }
      } else {
        i++;
      }
    }
    return out;
  }

  private static int skipString(String s, int i) {
    char quote = s.charAt(i);
    int j = i + 1;
    while (j < s.length() && s.charAt(j) != quote) {
      j += (s.charAt(j) == '\\' && quote != '`') ? 2 : 1;
    }
    if (j >= s.length()) {
      throw new IllegalArgumentException("unclosed string in " + s);
    }
    return j + 1;
  }

  /** Index just past the bracket that closes the one at {@code i}, strings respected. */
  private static int skipBlock(String s, int i, char open, char close) {
    int depth = 0;
    int j = i;
    while (j < s.length()) {
      char c = s.charAt(j);
      if (c == '"' || c == '\'' || c == '`') {
        j = skipString(s, j);
        continue;
      }
      if (c == open) {
        depth++;
      } else if (c == close && --depth == 0) {
        return j + 1;
      }
      j++;
    }
    throw new IllegalArgumentException("unclosed " + open + " in " + s);
  }

  private static int skipSpace(String s, int i) {
    while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
      i++;
    }
    return i;
  }

  private static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }

  private static boolean isIdentStart(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
  }

  private static boolean isIdentPart(char c) {
    return isIdentStart(c) || isDigit(c);
  }
}
