package dev.atelier.worker.service;

import com.fasterxml.jackson.databind.JsonNode;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Renders any JSON output as readable Markdown, without knowing the role's schema: object keys
 * become headings (short scalars become {@code **Key:** value} lines), arrays of scalars become
 * bullet lists, arrays of objects become one sub-section per element titled by its id/title/name/
 * path, and source text ({@code content}/{@code code}/{@code source} next to a {@code language},
 * Mermaid diagrams) becomes fenced code blocks.
 */
@ApplicationScoped
public class MarkdownRenderer {

  private static final int MAX_HEADING = 6;
  private static final int SHORT_TEXT = 120;
  private static final Set<String> CODE_KEYS = Set.of("content", "code", "source", "snippet");
  private static final Set<String> DIAGRAM_KEYS = Set.of("diagram", "mermaid");
  private static final List<String> LANGUAGE_KEYS = List.of("language", "lang");
  private static final List<String> LABEL_KEYS =
      List.of("title", "name", "path", "file", "summary", "description");
  private static final Pattern MERMAID_START =
      Pattern.compile(
          "^\\s*(graph|flowchart|sequenceDiagram|classDiagram|erDiagram|stateDiagram|gantt|"
              + "journey|pie|mindmap|C4\\w*)\\b");
  private static final Pattern BACKTICKS = Pattern.compile("`+");

  /**
   * Renders {@code content} under a level-1 heading.
   *
   * @param byline an italic line under the title (who wrote it), or {@code null}
   */
  public String render(String title, String byline, JsonNode content) {
    StringBuilder md = new StringBuilder();
    md.append("# ").append(humanize(title)).append("\n\n");
    if (byline != null && !byline.isBlank()) {
      md.append('_').append(byline).append("_\n\n");
    }
    if (content.isObject()) {
      object(md, content, 2);
    } else if (content.isArray()) {
      array(md, "Item", content, 2);
    } else {
      scalar(md, content);
    }
    return md.toString().stripTrailing() + "\n";
  }

  private void object(StringBuilder md, JsonNode node, int level) {
    String language = textOf(node, LANGUAGE_KEYS);
    boolean languageUsed = false;
    for (Map.Entry<String, JsonNode> field : node.properties()) {
      String key = field.getKey();
      JsonNode value = field.getValue();
      if (value.isNull() || value.isMissingNode()) {
        continue;
      }
      if (value.isTextual() && isCode(key, value.textValue(), language)) {
        String lang = DIAGRAM_KEYS.contains(key) ? diagramLanguage(value.textValue()) : language;
        languageUsed |= lang != null && lang.equals(language);
        heading(md, humanize(key), level);
        fence(md, lang, value.textValue());
      }
    }
    for (Map.Entry<String, JsonNode> field : node.properties()) {
      String key = field.getKey();
      JsonNode value = field.getValue();
      if (value.isNull()
          || value.isMissingNode()
          || (value.isTextual() && isCode(key, value.textValue(), language))
          || (languageUsed && LANGUAGE_KEYS.contains(key))) {
        continue;
      }
      field(md, key, value, level);
    }
  }

  private void field(StringBuilder md, String key, JsonNode value, int level) {
    if (value.isValueNode()) {
      String text = value.asText();
      if (text.length() <= SHORT_TEXT && text.indexOf('\n') < 0) {
        md.append("**").append(humanize(key)).append(":** ").append(text).append("\n\n");
      } else {
        heading(md, humanize(key), level);
        md.append(text.strip()).append("\n\n");
      }
    } else if (value.isArray()) {
      heading(md, humanize(key), level);
      array(md, humanize(key), value, level + 1);
    } else {
      heading(md, humanize(key), level);
      object(md, value, level + 1);
    }
  }

  private void array(StringBuilder md, String itemName, JsonNode array, int level) {
    if (array.isEmpty()) {
      md.append("_none_\n\n");
      return;
    }
    boolean allScalars = true;
    for (JsonNode element : array) {
      allScalars &= element.isValueNode();
    }
    if (allScalars) {
      for (JsonNode element : array) {
        md.append("- ").append(element.asText().strip().replace("\n", "\n  ")).append('\n');
      }
      md.append('\n');
      return;
    }
    int n = 0;
    for (JsonNode element : array) {
      n++;
      if (element.isObject()) {
        heading(md, label(element, itemName + " " + n), level);
        object(md, element, level + 1);
      } else if (element.isArray()) {
        heading(md, itemName + " " + n, level);
        array(md, itemName, element, level + 1);
      } else {
        md.append("- ").append(element.asText()).append("\n\n");
      }
    }
  }

  private static void scalar(StringBuilder md, JsonNode value) {
    md.append(value.asText()).append("\n\n");
  }

  private static void heading(StringBuilder md, String text, int level) {
    if (level <= MAX_HEADING) {
      md.append("#".repeat(level)).append(' ').append(text).append("\n\n");
    } else {
      md.append("**").append(text).append("**\n\n");
    }
  }

  /** A fenced block whose fence is longer than any run of backticks inside it. */
  private static void fence(StringBuilder md, String language, String text) {
    int longest = 0;
    Matcher m = BACKTICKS.matcher(text);
    while (m.find()) {
      longest = Math.max(longest, m.group().length());
    }
    String fence = "`".repeat(Math.max(3, longest + 1));
    md.append(fence)
        .append(language == null ? "" : language)
        .append('\n')
        .append(text.stripTrailing())
        .append('\n')
        .append(fence)
        .append("\n\n");
  }

  private static boolean isCode(String key, String text, String language) {
    if (DIAGRAM_KEYS.contains(key)) {
      return true;
    }
    return CODE_KEYS.contains(key) && (language != null || !key.equals("content"));
  }

  private static String diagramLanguage(String text) {
    return MERMAID_START.matcher(text).find() ? "mermaid" : null;
  }

  /** "US-1: Log in" from {id, title}, else the first labelling field, else the fallback. */
  private static String label(JsonNode element, String fallback) {
    String id = element.path("id").isValueNode() ? element.path("id").asText(null) : null;
    String text = textOf(element, LABEL_KEYS);
    if (text != null) {
      text = Clip.clip(text, SHORT_TEXT);
    }
    if (id != null && text != null) {
      return id + ": " + text;
    }
    return id != null ? id : text != null ? text : fallback;
  }

  private static String textOf(JsonNode node, List<String> keys) {
    for (String key : keys) {
      JsonNode value = node.path(key);
      if (value.isTextual() && !value.textValue().isBlank()) {
        return value.textValue().strip().lines().findFirst().orElse("");
      }
    }
    return null;
  }

  /** {@code acceptanceCriteria}, {@code acceptance_criteria} -> "Acceptance criteria". */
  static String humanize(String key) {
    String spaced =
        key.replaceAll("([a-z0-9])([A-Z])", "$1 $2").replace('_', ' ').replace('-', ' ').strip();
    if (spaced.isEmpty()) {
      return key;
    }
    String lower = spaced.toLowerCase(Locale.ROOT);
    return Character.toUpperCase(lower.charAt(0)) + lower.substring(1);
  }
}
