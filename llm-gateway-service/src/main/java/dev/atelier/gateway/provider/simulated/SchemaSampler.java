package dev.atelier.gateway.provider.simulated;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.atelier.gateway.service.GatewayException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.UUID;

/**
 * Builds a JSON value that conforms to a JSON Schema, with content derived from property names and
 * the prompt's words ("Order tracking: user story 1"), deterministic for a given seed.
 *
 * <p>Handles {@code type} (also as an array such as {@code ["string","null"]}), {@code
 * properties}/{@code required}/{@code additionalProperties}, {@code items}/{@code
 * prefixItems}/{@code minItems}/{@code maxItems}/{@code uniqueItems}, string {@code
 * minLength}/{@code maxLength}/{@code format}, numeric {@code minimum}/{@code maximum} (also
 * exclusive) and {@code multipleOf}, {@code enum} (first value), {@code const}, {@code
 * anyOf}/{@code oneOf} (first non-null option), {@code allOf} (merged) and {@code $ref} to {@code
 * #/$defs}, {@code #/definitions} or any local JSON pointer. {@code pattern} is not interpreted.
 *
 * <p>What a schema may ask for is bounded, since a few bytes of schema could otherwise ask for
 * gigabytes ({@code "minItems":2000000000}): at most {@value #MAX_ITEMS} items per array, strings
 * of at most {@value #MAX_LENGTH} characters, and about {@value #MAX_OUTPUT} characters of JSON in
 * all. A schema that needs more is refused (400) rather than answered with a value that does not
 * conform to it.
 */
final class SchemaSampler {

  private static final JsonNodeFactory F = JsonNodeFactory.instance;
  private static final int MAX_DEPTH = 12;
  private static final int OPTIONAL_DEPTH = 4;

  /** The most items a schema may require of one array ({@code minItems}). */
  static final int MAX_ITEMS = 1_000;

  /** The most characters a schema may require of one string ({@code minLength}). */
  static final int MAX_LENGTH = 100_000;

  /** About the most characters of JSON in one sampled value; each value counts at least 8. */
  static final int MAX_OUTPUT = 1_000_000;

  private static final int VALUE_COST = 8;
  private static final Instant BASE_TIME = Instant.parse("2025-01-06T09:00:00Z");
  private static final Set<String> TITLE_NAMES =
      Set.of("title", "name", "headline", "label", "subject", "heading", "caption");
  private static final Set<String> SENTENCE_WORDS =
      Set.of(
          "description",
          "details",
          "detail",
          "rationale",
          "reason",
          "reasoning",
          "explanation",
          "body",
          "content",
          "text",
          "summary",
          "notes",
          "note",
          "comment",
          "comments",
          "context",
          "approach",
          "overview",
          "purpose",
          "goal",
          "message",
          "feedback",
          "justification",
          "answer",
          "response",
          "narrative",
          "story",
          "criterion",
          "criteria",
          "step",
          "steps",
          "consequence",
          "consequences",
          "decision",
          "risk",
          "impact",
          "benefit",
          "value",
          "scenario",
          "expected",
          "result",
          "outcome",
          "issue",
          "problem",
          "suggestion");

  private final JsonNode root;
  private final PromptWords prompt;
  private final SplittableRandom random;
  private final long seed;
  private final String param;
  private int sentenceOffset;
  private long budget = MAX_OUTPUT;

  SchemaSampler(JsonNode root, PromptWords prompt, long seed) {
    this(root, prompt, seed, "response_format");
  }

  /**
   * @param param the request field the schema came from, named in a refusal
   */
  SchemaSampler(JsonNode root, PromptWords prompt, long seed, String param) {
    this.root = root;
    this.param = param;
    this.prompt = prompt;
    this.seed = seed;
    this.random = new SplittableRandom(seed);
    this.sentenceOffset = (int) Math.floorMod(seed, Math.max(1, prompt.size()));
  }

  JsonNode sample() {
    return value(root, new Slot(null, null, -1), 0);
  }

  /** Where a value sits: its property name, the name of the array it is in, and its index there. */
  private record Slot(String name, String arrayName, int index) {}

  private JsonNode value(JsonNode schema, Slot slot, int depth) {
    spend(VALUE_COST);
    if (schema == null || schema.isMissingNode() || (schema.isBoolean() && schema.asBoolean())) {
      return F.textNode(text(slot));
    }
    if (schema.isBoolean()) {
      return NullNode.instance; // "false" admits nothing; null is the least wrong answer
    }
    if (depth > MAX_DEPTH) {
      return minimal(schema);
    }
    JsonNode ref = schema.get("$ref");
    if (ref != null && ref.isTextual()) {
      return value(resolve(ref.asText()), slot, depth + 1);
    }
    if (schema.has("const")) {
      return schema.get("const").deepCopy();
    }
    JsonNode enumeration = schema.get("enum");
    if (enumeration != null && enumeration.isArray() && !enumeration.isEmpty()) {
      return enumeration.get(0).deepCopy();
    }
    for (String alt : List.of("anyOf", "oneOf")) {
      JsonNode options = schema.get(alt);
      if (options != null && options.isArray() && !options.isEmpty()) {
        return value(firstNonNull(options), slot, depth + 1);
      }
    }
    JsonNode allOf = schema.get("allOf");
    if (allOf != null && allOf.isArray() && !allOf.isEmpty()) {
      return value(merge(schema, allOf), slot, depth + 1);
    }
    return switch (type(schema)) {
      case "object" -> object(schema, slot, depth);
      case "array" -> array(schema, slot, depth);
      case "integer" -> integer(schema, slot);
      case "number" -> number(schema, slot);
      case "boolean" -> F.booleanNode(slot.index() <= 0 || random.nextBoolean());
      case "null" -> NullNode.instance;
      default -> string(schema, slot);
    };
  }

  private JsonNode object(JsonNode schema, Slot slot, int depth) {
    ObjectNode node = F.objectNode();
    Set<String> required = new LinkedHashSet<>();
    schema.path("required").forEach(r -> required.add(r.asText()));
    JsonNode properties = schema.path("properties");
    String owner = slot.arrayName() != null ? slot.arrayName() : slot.name();
    Iterator<Map.Entry<String, JsonNode>> it = properties.fields();
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> p = it.next();
      if (required.contains(p.getKey()) || depth < OPTIONAL_DEPTH) {
        node.set(
            p.getKey(),
            value(p.getValue(), new Slot(p.getKey(), owner, Math.max(slot.index(), 0)), depth + 1));
      }
    }
    JsonNode additional = schema.get("additionalProperties");
    boolean closed = additional != null && additional.isBoolean() && !additional.asBoolean();
    for (String r : required) {
      if (!node.has(r) && !closed) {
        JsonNode extra = additional != null && additional.isObject() ? additional : null;
        node.set(r, value(extra, new Slot(r, owner, Math.max(slot.index(), 0)), depth + 1));
      }
    }
    if (node.isEmpty() && additional != null && additional.isObject()) {
      // A map: one meaningful entry shows its shape.
      String key = slug(prompt.topicLower());
      node.set(key, value(additional, new Slot(key, owner, 0), depth + 1));
    }
    return node;
  }

  private JsonNode array(JsonNode schema, Slot slot, int depth) {
    ArrayNode array = F.arrayNode();
    int min = minItems(schema);
    int max = schema.has("maxItems") ? schema.get("maxItems").asInt() : Integer.MAX_VALUE;
    JsonNode prefix = schema.get("prefixItems");
    int prefixCount = prefix != null && prefix.isArray() ? prefix.size() : 0;
    // Deep down only the required minimum: recursive schemas (trees) then end by themselves.
    int count = Math.max(Math.min(depth < OPTIONAL_DEPTH ? 2 : 0, max), min);
    count = Math.max(count, Math.min(prefixCount, max));
    count = Math.min(count, max);
    JsonNode items = schema.get("items");
    String arrayName = slot.name() != null ? slot.name() : slot.arrayName();
    boolean unique = schema.path("uniqueItems").asBoolean(false);
    for (int i = 0; i < count; i++) {
      JsonNode itemSchema =
          i < prefixCount ? prefix.get(i) : (items != null && items.isObject() ? items : null);
      JsonNode itemEnum = itemSchema == null ? null : resolveShallow(itemSchema).get("enum");
      if (unique && itemEnum != null && itemEnum.isArray() && !itemEnum.isEmpty()) {
        if (i >= itemEnum.size()) {
          break; // cannot add more distinct values; minItems beyond the enum size is unsatisfiable
        }
        spend(VALUE_COST);
        array.add(itemEnum.get(i).deepCopy());
        continue;
      }
      array.add(value(itemSchema, new Slot(null, arrayName, i), depth + 1));
    }
    return array;
  }

  private JsonNode integer(JsonNode schema, Slot slot) {
    JsonNode beyond = beyondLong(schema);
    if (beyond != null) {
      return beyond;
    }
    long lo =
        schema.has("minimum")
            ? (long) Math.ceil(schema.get("minimum").asDouble())
            : schema.has("exclusiveMinimum") && schema.get("exclusiveMinimum").isNumber()
                ? (long) Math.floor(schema.get("exclusiveMinimum").asDouble()) + 1
                : Long.MIN_VALUE;
    long hi =
        schema.has("maximum")
            ? (long) Math.floor(schema.get("maximum").asDouble())
            : schema.has("exclusiveMaximum") && schema.get("exclusiveMaximum").isNumber()
                ? (long) Math.ceil(schema.get("exclusiveMaximum").asDouble()) - 1
                : Long.MAX_VALUE;
    long v;
    if (lo != Long.MIN_VALUE && hi != Long.MAX_VALUE) {
      long span;
      try {
        span = Math.subtractExact(hi, lo);
      } catch (ArithmeticException overflow) {
        span = Long.MAX_VALUE; // -5e18..5e18: wider than a long counts
      }
      v = hi <= lo ? lo : lo + random.nextLong(Math.min(span, 1_000_000) + 1);
    } else if (lo != Long.MIN_VALUE) {
      v = lo + random.nextInt(5);
    } else if (hi != Long.MAX_VALUE) {
      v = Math.min(hi, 1 + random.nextInt(5));
    } else {
      v = ordinal(slot) ? Math.max(slot.index(), 0) + 1 : 1 + random.nextInt(5);
    }
    long multiple = schema.path("multipleOf").asLong(0);
    if (multiple > 0 && v % multiple != 0) {
      long up = (Math.floorDiv(v, multiple) + 1) * multiple;
      long down = Math.floorDiv(v, multiple) * multiple;
      v = up <= hi ? up : down;
    }
    return F.numberNode(v);
  }

  /**
   * An integer for bounds a long cannot hold ({@code "minimum": 1e19}): the bound itself, or the
   * integer next to it when exclusive; null when the bounds fit a long (or bound nothing).
   */
  private static JsonNode beyondLong(JsonNode schema) {
    boolean exclusiveLo = !schema.has("minimum") && schema.path("exclusiveMinimum").isNumber();
    boolean exclusiveHi = !schema.has("maximum") && schema.path("exclusiveMaximum").isNumber();
    Double lo = bound(schema, "minimum", exclusiveLo ? "exclusiveMinimum" : null);
    Double hi = bound(schema, "maximum", exclusiveHi ? "exclusiveMaximum" : null);
    double limit = 9.2e18;
    if (lo != null && Math.abs(lo) >= limit) {
      BigDecimal at = BigDecimal.valueOf(lo).setScale(0, RoundingMode.CEILING);
      return F.numberNode(
          (exclusiveLo && at.compareTo(BigDecimal.valueOf(lo)) == 0 ? at.add(BigDecimal.ONE) : at)
              .toBigInteger());
    }
    if (hi != null && Math.abs(hi) >= limit) {
      BigDecimal at = BigDecimal.valueOf(hi).setScale(0, RoundingMode.FLOOR);
      return F.numberNode(
          (exclusiveHi && at.compareTo(BigDecimal.valueOf(hi)) == 0
                  ? at.subtract(BigDecimal.ONE)
                  : at)
              .toBigInteger());
    }
    return null;
  }

  private JsonNode number(JsonNode schema, Slot slot) {
    boolean exclusiveLo = !schema.has("minimum") && schema.path("exclusiveMinimum").isNumber();
    boolean exclusiveHi = !schema.has("maximum") && schema.path("exclusiveMaximum").isNumber();
    Double lo = bound(schema, "minimum", exclusiveLo ? "exclusiveMinimum" : null);
    Double hi = bound(schema, "maximum", exclusiveHi ? "exclusiveMaximum" : null);
    double v;
    if (lo != null && hi != null) {
      // Weighted, not lo + (hi - lo) * t: the span of -1e308..1e308 is infinite as a double.
      double t = 0.25 + 0.5 * random.nextDouble();
      v = lo * (1 - t) + hi * t;
    } else if (lo != null) {
      // Past 1e15 a double has no room for the small steps below: the bound, or the next double.
      v =
          lo >= 1e15
              ? (exclusiveLo ? Math.nextUp(lo) : lo)
              : lo + 1 + random.nextInt(9) + random.nextInt(100) / 100.0;
    } else if (hi != null && hi <= -1e15) {
      v = exclusiveHi ? Math.nextDown(hi) : hi;
    } else if (hi != null) {
      v = Math.min(hi - 1, 1 + random.nextInt(9)) + random.nextInt(100) / 100.0;
      v = Math.min(v, hi - 0.01);
    } else {
      v = 1 + random.nextInt(9) + random.nextInt(100) / 100.0;
    }
    BigDecimal rounded = BigDecimal.valueOf(v).setScale(2, RoundingMode.HALF_UP);
    if ((lo != null && rounded.doubleValue() < lo)
        || (hi != null && rounded.doubleValue() > hi)
        || (exclusiveLo && rounded.doubleValue() <= lo)
        || (exclusiveHi && rounded.doubleValue() >= hi)) {
      rounded = BigDecimal.valueOf(v); // the exact midpoint-ish value is inside the bounds
    }
    double multiple = schema.path("multipleOf").asDouble(0);
    if (multiple > 0) {
      BigDecimal m = BigDecimal.valueOf(multiple);
      BigDecimal k = rounded.divide(m, 0, RoundingMode.CEILING);
      BigDecimal candidate = k.multiply(m);
      if (hi != null && candidate.doubleValue() > hi) {
        candidate = rounded.divide(m, 0, RoundingMode.FLOOR).multiply(m);
      }
      rounded = candidate;
    }
    return F.numberNode(rounded);
  }

  private int minItems(JsonNode schema) {
    long min = schema.path("minItems").asLong(0);
    if (min > MAX_ITEMS) {
      throw tooLarge("arrays of minItems " + min + " (at most " + MAX_ITEMS + ")");
    }
    return (int) Math.max(min, 0);
  }

  /** Counts {@code characters} against the answer's size limit. */
  private void spend(long characters) {
    budget -= characters;
    if (budget < 0) {
      throw tooLarge("answers of more than about " + MAX_OUTPUT + " characters of JSON");
    }
  }

  private GatewayException tooLarge(String what) {
    return GatewayException.invalid(
        "schema_too_large",
        param,
        "The schema asks for more than the simulated provider generates: it does not generate "
            + what);
  }

  /** A bound as a double; one beyond a double's range ({@code 1e999}) bounds nothing. */
  private static Double bound(JsonNode schema, String inclusive, String exclusive) {
    double value;
    if (schema.has(inclusive)) {
      value = schema.get(inclusive).asDouble();
    } else if (exclusive != null) {
      value = schema.get(exclusive).asDouble();
    } else {
      return null;
    }
    return Double.isFinite(value) ? value : null;
  }

  private JsonNode string(JsonNode schema, Slot slot) {
    String format = schema.path("format").asText("");
    String s =
        switch (format) {
          case "date-time" -> BASE_TIME.plus(dayOffset(slot), ChronoUnit.DAYS).toString();
          case "date" ->
              LocalDate.ofInstant(BASE_TIME.plus(dayOffset(slot), ChronoUnit.DAYS), ZoneOffset.UTC)
                  .toString();
          case "time" -> "09:30:00Z";
          case "duration" -> "P" + (1 + Math.max(slot.index(), 0)) + "D";
          case "email", "idn-email" ->
              slug(noun(slot)) + (Math.max(slot.index(), 0) + 1) + "@example.com";
          case "uri", "iri", "url", "uri-reference", "iri-reference" ->
              "https://example.com/"
                  + slug(prompt.topicLower())
                  + "/"
                  + slug(noun(slot))
                  + "-"
                  + (Math.max(slot.index(), 0) + 1);
          case "uuid" -> uuid(slot).toString();
          case "hostname", "idn-hostname" -> slug(prompt.topicLower()) + ".example.com";
          case "ipv4" -> "192.0.2." + (1 + Math.max(slot.index(), 0) % 250);
          case "ipv6" -> "2001:db8::" + (1 + Math.max(slot.index(), 0));
          default -> text(slot);
        };
    long minLength = Math.max(0, schema.path("minLength").asLong(0));
    if (minLength > MAX_LENGTH) {
      throw tooLarge("strings of minLength " + minLength + " (at most " + MAX_LENGTH + ")");
    }
    long maxLength =
        schema.has("maxLength") ? Math.max(0, schema.get("maxLength").asLong()) : Long.MAX_VALUE;
    StringBuilder sb = new StringBuilder(s);
    // Lengths counted as the string grows: counting the whole string each time is quadratic.
    long length = sb.codePointCount(0, sb.length());
    int pad = 0;
    while (length < minLength) {
      String more = (sb.isEmpty() ? "" : " ") + prompt.window(pad += 3, 3);
      if (more.isEmpty()) {
        more = "x";
      }
      sb.append(more);
      length += more.codePointCount(0, more.length());
    }
    String result = sb.toString();
    if (length > maxLength) {
      result = result.substring(0, result.offsetByCodePoints(0, (int) maxLength)).stripTrailing();
      int kept = result.codePointCount(0, result.length());
      if (kept < minLength) {
        result = result + "x".repeat((int) (minLength - kept));
      }
    }
    spend(result.length());
    return F.textNode(result);
  }

  /** Text for a string slot, chosen by the property name. */
  private String text(Slot slot) {
    int n = Math.max(slot.index(), 0) + 1;
    String name = slot.name();
    String topic = prompt.topic();
    if (name == null) {
      if (slot.arrayName() != null) {
        // An item of a list of strings: "Acceptance criterion 1: customers see the parcel status".
        return PromptWords.capitalize(singular(words(slot.arrayName())))
            + " "
            + n
            + ": "
            + sentenceWords(8);
      }
      return topic + ": " + sentenceWords(12) + ".";
    }
    String words = words(name);
    String last = lastWord(words);
    String itemNoun = slot.arrayName() != null ? singular(words(slot.arrayName())) : null;
    if (TITLE_NAMES.contains(last) || words.equals("summary title")) {
      return itemNoun != null && slot.index() >= 0 && !itemNoun.isEmpty()
          ? topic + ": " + itemNoun + " " + n
          : topic;
    }
    if (last.equals("id")
        || last.equals("key")
        || last.equals("identifier")
        || last.equals("ref")) {
      String base =
          itemNoun != null ? itemNoun : words.replaceAll("\\s*(id|key|identifier|ref)$", "");
      return initials(base.isBlank() ? topic : base) + "-" + n;
    }
    if (last.equals("path") || last.equals("file") || last.equals("filename")) {
      return "src/"
          + slug(prompt.topicLower())
          + "/"
          + slug(itemNoun != null ? itemNoun : "file")
          + "-"
          + n
          + ".md";
    }
    if (last.equals("url") || last.equals("link") || last.equals("href") || last.equals("uri")) {
      return "https://example.com/" + slug(prompt.topicLower()) + "/" + n;
    }
    if (last.equals("email")) {
      return slug(itemNoun != null ? itemNoun : "contact") + n + "@example.com";
    }
    if (last.equals("version")) {
      return "1." + (n - 1) + ".0";
    }
    if (SENTENCE_WORDS.contains(last) || words.split(" ").length > 2) {
      String of = itemNoun != null ? " of " + itemNoun + " " + n : "";
      return PromptWords.capitalize(words)
          + of
          + " for "
          + prompt.topicLower()
          + ": "
          + sentenceWords(10)
          + ".";
    }
    return PromptWords.capitalize(words)
        + (itemNoun != null ? " " + n : "")
        + " for "
        + prompt.topicLower();
  }

  private String sentenceWords(int count) {
    String s = prompt.window(sentenceOffset, count);
    sentenceOffset += count;
    return s;
  }

  private static boolean ordinal(Slot slot) {
    String name = slot.name() == null ? "" : words(slot.name());
    String last = lastWord(name);
    return Set.of("id", "index", "order", "number", "sequence", "rank", "position", "step", "no")
        .contains(last);
  }

  private long dayOffset(Slot slot) {
    return Math.floorMod(seed, 90) + Math.max(slot.index(), 0) * 7L;
  }

  private UUID uuid(Slot slot) {
    String key = seed + "/" + slot.name() + "/" + slot.arrayName() + "/" + slot.index();
    return UUID.nameUUIDFromBytes(key.getBytes(StandardCharsets.UTF_8));
  }

  private String noun(Slot slot) {
    if (slot.name() != null) {
      return words(slot.name());
    }
    return slot.arrayName() != null ? singular(words(slot.arrayName())) : "item";
  }

  private String type(JsonNode schema) {
    JsonNode type = schema.get("type");
    if (type != null && type.isTextual()) {
      return type.asText();
    }
    if (type != null && type.isArray()) {
      for (JsonNode t : type) {
        if (!"null".equals(t.asText())) {
          return t.asText();
        }
      }
      return "null";
    }
    if (schema.has("properties") || schema.has("required") || schema.has("additionalProperties")) {
      return "object";
    }
    if (schema.has("items") || schema.has("prefixItems") || schema.has("minItems")) {
      return "array";
    }
    if (schema.has("minimum") || schema.has("maximum") || schema.has("multipleOf")) {
      return "number";
    }
    return "string";
  }

  private JsonNode firstNonNull(JsonNode options) {
    for (JsonNode o : options) {
      JsonNode r = resolveShallow(o);
      if (!"null".equals(r.path("type").asText())) {
        return o;
      }
    }
    return options.get(0);
  }

  private JsonNode merge(JsonNode schema, JsonNode allOf) {
    ObjectNode merged = schema.deepCopy();
    merged.remove("allOf");
    ObjectNode props =
        merged.has("properties") && merged.get("properties").isObject()
            ? (ObjectNode) merged.get("properties")
            : merged.putObject("properties");
    ArrayNode required =
        merged.has("required") && merged.get("required").isArray()
            ? (ArrayNode) merged.get("required")
            : merged.putArray("required");
    for (JsonNode part : allOf) {
      JsonNode p = resolveShallow(part);
      p.fields()
          .forEachRemaining(
              e -> {
                switch (e.getKey()) {
                  case "properties" ->
                      e.getValue()
                          .fields()
                          .forEachRemaining(f -> props.set(f.getKey(), f.getValue()));
                  case "required" -> e.getValue().forEach(required::add);
                  default -> {
                    if (!merged.has(e.getKey())) {
                      merged.set(e.getKey(), e.getValue());
                    }
                  }
                }
              });
    }
    return merged;
  }

  private JsonNode resolveShallow(JsonNode schema) {
    JsonNode s = schema;
    for (int i = 0; i < 8 && s != null && s.has("$ref") && s.get("$ref").isTextual(); i++) {
      s = resolve(s.get("$ref").asText());
    }
    return s == null ? schema : s;
  }

  private JsonNode resolve(String ref) {
    if (ref.equals("#")) {
      return root;
    }
    if (ref.startsWith("#/")) {
      JsonNode target = root.at(ref.substring(1));
      if (!target.isMissingNode()) {
        return target;
      }
    }
    // Remote or unresolvable references: a string is the least surprising value.
    return F.objectNode().put("type", "string");
  }

  /**
   * The smallest value of a schema, used past the depth limit: null where allowed, else required
   * properties only and the fewest items, so a recursive schema still gets a valid value.
   */
  private JsonNode minimal(JsonNode schema) {
    return minimal(schema, 0);
  }

  private JsonNode minimal(JsonNode schema, int guard) {
    spend(VALUE_COST);
    JsonNode s = resolveShallow(schema);
    if (s == null || !s.isObject() || guard > 2 * MAX_DEPTH) {
      return NullNode.instance;
    }
    if (s.has("const")) {
      return s.get("const").deepCopy();
    }
    if (s.path("enum").isArray() && !s.get("enum").isEmpty()) {
      return s.get("enum").get(0).deepCopy();
    }
    for (String alt : List.of("anyOf", "oneOf")) {
      JsonNode options = s.get(alt);
      if (options != null && options.isArray() && !options.isEmpty()) {
        for (JsonNode o : options) {
          if ("null".equals(resolveShallow(o).path("type").asText())) {
            return NullNode.instance;
          }
        }
        return minimal(options.get(0), guard + 1);
      }
    }
    if (s.path("allOf").isArray() && !s.get("allOf").isEmpty()) {
      return minimal(merge(s, s.get("allOf")), guard + 1);
    }
    JsonNode type = s.get("type");
    if (type != null && type.isArray()) {
      for (JsonNode t : type) {
        if ("null".equals(t.asText())) {
          return NullNode.instance;
        }
      }
    }
    return switch (type(s)) {
      case "object" -> {
        ObjectNode o = F.objectNode();
        for (JsonNode r : s.path("required")) {
          JsonNode p = s.path("properties").get(r.asText());
          o.set(r.asText(), p == null ? F.textNode(prompt.topic()) : minimal(p, guard + 1));
        }
        yield o;
      }
      case "array" -> {
        ArrayNode a = F.arrayNode();
        int min = minItems(s);
        for (int i = 0; i < min; i++) {
          JsonNode items =
              s.path("prefixItems").isArray() && i < s.get("prefixItems").size()
                  ? s.get("prefixItems").get(i)
                  : s.get("items");
          a.add(items == null ? F.textNode(prompt.topic()) : minimal(items, guard + 1));
        }
        yield a;
      }
      case "integer" -> integer(s, new Slot(null, null, -1));
      case "number" -> number(s, new Slot(null, null, -1));
      case "boolean" -> F.booleanNode(false);
      case "null" -> NullNode.instance;
      default -> string(s, new Slot(null, null, -1));
    };
  }

  /** "userStories" or "user_stories" -> "user stories". */
  static String words(String name) {
    String spaced =
        name.replaceAll("([a-z0-9])([A-Z])", "$1 $2")
            .replaceAll("[_\\-.]+", " ")
            .trim()
            .toLowerCase(Locale.ROOT);
    return spaced.isEmpty() ? "item" : spaced;
  }

  static String singular(String words) {
    int space = words.lastIndexOf(' ');
    String head = space < 0 ? "" : words.substring(0, space + 1);
    String last = words.substring(space + 1);
    String one;
    if (last.equals("criteria")) {
      one = "criterion";
    } else if (last.equals("children")) {
      one = "child";
    } else if (last.equals("people")) {
      one = "person";
    } else if (last.endsWith("ses") && last.length() > 4 && last.endsWith("yses")) {
      one = last.substring(0, last.length() - 2) + "is";
    } else if (last.endsWith("ies") && last.length() > 3) {
      one = last.substring(0, last.length() - 3) + "y";
    } else if (last.endsWith("sses")
        || last.endsWith("xes")
        || last.endsWith("ches")
        || last.endsWith("shes")) {
      one = last.substring(0, last.length() - 2);
    } else if (last.endsWith("s") && !last.endsWith("ss") && last.length() > 3) {
      one = last.substring(0, last.length() - 1);
    } else {
      one = last;
    }
    return head + one;
  }

  private static String lastWord(String words) {
    int space = words.lastIndexOf(' ');
    return space < 0 ? words : words.substring(space + 1);
  }

  private static String initials(String words) {
    StringBuilder sb = new StringBuilder();
    for (String w : words.split("\\s+")) {
      if (!w.isEmpty()) {
        sb.append(Character.toUpperCase(w.charAt(0)));
      }
    }
    return sb.isEmpty() ? "ID" : sb.toString();
  }

  static String slug(String s) {
    String slug = s.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("^-|-$", "");
    return slug.isEmpty() ? "item" : slug;
  }
}
