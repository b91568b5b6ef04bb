package dev.atelier.orchestrator.service;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Finds where a JSON Schema refers back to itself without descending into the instance: through
 * {@code $ref} (and {@code $dynamicRef}, {@code $recursiveRef}) and the keywords that apply a
 * schema to the same place of the instance ({@code allOf}, {@code anyOf}, {@code oneOf}, {@code
 * not}, {@code if}/{@code then}/{@code else}, {@code dependentSchemas}). Validating an answer that
 * reaches such a schema never ends (the worker's validator overflows its stack), after the model
 * was paid. Recursion through {@code properties}, {@code items} and the like is fine: it ends with
 * the answer.
 */
final class SchemaCycles {

  /** Keywords whose value is one schema. */
  private static final Set<String> ONE_SCHEMA =
      Set.of(
          "not",
          "if",
          "then",
          "else",
          "items",
          "additionalItems",
          "additionalProperties",
          "contains",
          "propertyNames",
          "unevaluatedItems",
          "unevaluatedProperties",
          "contentSchema");

  /** Keywords whose value is an array of schemas. */
  private static final Set<String> SCHEMA_ARRAYS =
      Set.of("allOf", "anyOf", "oneOf", "prefixItems", "items");

  /** Keywords whose value maps names to schemas. */
  private static final Set<String> SCHEMA_MAPS =
      Set.of(
          "properties",
          "patternProperties",
          "$defs",
          "definitions",
          "dependentSchemas",
          "dependencies");

  /** Of those, the ones that apply their schemas to the same place of the instance. */
  private static final Set<String> IN_PLACE_ONE = Set.of("not", "if", "then", "else");

  private static final Set<String> IN_PLACE_ARRAYS = Set.of("allOf", "anyOf", "oneOf");
  private static final Set<String> IN_PLACE_MAPS = Set.of("dependentSchemas", "dependencies");
  private static final List<String> REFERENCES = List.of("$ref", "$dynamicRef", "$recursiveRef");

  /**
   * Where a subschema sits: its parent ({@code null} for the root), the parent's keyword holding
   * it, and its name or index under that keyword ({@code null} for a keyword holding one schema).
   */
  private record Place(JsonNode parent, String keyword, String name) {}

  private final JsonNode root;
  private final String rootPointer;

  /** Every subschema's place: links, not pointers, which would take memory in the square. */
  private final Map<JsonNode, Place> places = new IdentityHashMap<>();

  /** The subschemas in document order, so the cycle reported is always the same. */
  private final List<JsonNode> inOrder = new ArrayList<>();

  private final Map<String, JsonNode> anchors = new HashMap<>();

  private SchemaCycles(JsonNode root, String rootPointer) {
    this.root = root;
    this.rootPointer = rootPointer;
    collect(root, new Place(null, null, null));
  }

  /**
   * The first cycle found, as the JSON pointers along it ({@code rootPointer} standing for the
   * schema's root), or empty when there is none.
   */
  static Optional<List<String>> find(JsonNode schema, String rootPointer) {
    return new SchemaCycles(schema, rootPointer).search();
  }

  /** Every subschema, by place, and the plain-name anchors (the caller bounds the depth). */
  private void collect(JsonNode schema, Place place) {
    if (!schema.isObject() || places.containsKey(schema)) {
      return;
    }
    places.put(schema, place);
    inOrder.add(schema);
    for (String keyword : List.of("$anchor", "$dynamicAnchor")) {
      if (schema.path(keyword).isTextual()) {
        anchors.putIfAbsent(schema.path(keyword).textValue(), schema);
      }
    }
    for (String keyword : List.of("$id", "id")) {
      JsonNode id = schema.path(keyword);
      if (id.isTextual() && id.textValue().startsWith("#") && id.textValue().length() > 1) {
        anchors.putIfAbsent(id.textValue().substring(1), schema);
      }
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = schema.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> field = it.next();
      String keyword = field.getKey();
      JsonNode value = field.getValue();
      if (ONE_SCHEMA.contains(keyword) && value.isObject()) {
        collect(value, new Place(schema, keyword, null));
      } else if (SCHEMA_ARRAYS.contains(keyword) && value.isArray()) {
        for (int i = 0; i < value.size(); i++) {
          collect(value.get(i), new Place(schema, keyword, Integer.toString(i)));
        }
      } else if (SCHEMA_MAPS.contains(keyword) && value.isObject()) {
        for (Iterator<Map.Entry<String, JsonNode>> m = value.fields(); m.hasNext(); ) {
          Map.Entry<String, JsonNode> entry = m.next();
          collect(entry.getValue(), new Place(schema, keyword, entry.getKey()));
        }
      }
    }
  }

  /**
   * Depth first over the in-place edges, without recursion (a schema may chain thousands), from
   * every subschema a validator can reach: one under {@code $defs} that nothing refers to is never
   * evaluated, whatever it holds.
   */
  private Optional<List<String>> search() {
    Set<JsonNode> reachable = reachable();
    Map<JsonNode, Boolean> done = new IdentityHashMap<>(); // false: on the current path
    for (JsonNode start : inOrder) {
      if (done.containsKey(start) || !reachable.contains(start)) {
        continue;
      }
      Deque<Map.Entry<JsonNode, Iterator<JsonNode>>> path = new ArrayDeque<>();
      done.put(start, false);
      path.push(Map.entry(start, inPlace(start).iterator()));
      while (!path.isEmpty()) {
        Map.Entry<JsonNode, Iterator<JsonNode>> top = path.peek();
        if (!top.getValue().hasNext()) {
          done.put(top.getKey(), true);
          path.pop();
          continue;
        }
        JsonNode next = top.getValue().next();
        Boolean seen = done.get(next);
        if (seen == null) {
          done.put(next, false);
          path.push(Map.entry(next, inPlace(next).iterator()));
        } else if (!seen) {
          List<String> cycle = new ArrayList<>();
          Iterator<Map.Entry<JsonNode, Iterator<JsonNode>>> back = path.descendingIterator();
          boolean on = false;
          while (back.hasNext()) {
            JsonNode node = back.next().getKey();
            on |= node == next;
            if (on) {
              cycle.add(pointerOf(node));
            }
          }
          cycle.add(pointerOf(next));
          return Optional.of(cycle);
        }
      }
    }
    return Optional.empty();
  }

  /** The subschemas validation can evaluate, from the root, through every applying keyword. */
  private Set<JsonNode> reachable() {
    Set<JsonNode> seen = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
    Deque<JsonNode> next = new ArrayDeque<>();
    next.push(root);
    seen.add(root);
    while (!next.isEmpty()) {
      JsonNode schema = next.pop();
      List<JsonNode> applied = new ArrayList<>(inPlace(schema));
      for (Iterator<Map.Entry<String, JsonNode>> it = schema.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> field = it.next();
        String keyword = field.getKey();
        JsonNode value = field.getValue();
        if (ONE_SCHEMA.contains(keyword) && !IN_PLACE_ONE.contains(keyword)) {
          addIfObject(applied, value);
        } else if (SCHEMA_ARRAYS.contains(keyword) && !IN_PLACE_ARRAYS.contains(keyword)) {
          value.forEach(s -> addIfObject(applied, s));
        } else if (keyword.equals("properties") || keyword.equals("patternProperties")) {
          value.forEach(s -> addIfObject(applied, s));
        }
      }
      for (JsonNode child : applied) {
        if (seen.add(child)) {
          next.push(child);
        }
      }
    }
    return seen;
  }

  /** The schemas {@code schema} applies to the same place of the instance. */
  private List<JsonNode> inPlace(JsonNode schema) {
    List<JsonNode> next = new ArrayList<>();
    for (String keyword : REFERENCES) {
      JsonNode ref = schema.path(keyword);
      if (ref.isTextual()) {
        JsonNode target = resolve(ref.textValue());
        if (target != null && target.isObject()) {
          next.add(target);
        }
      }
    }
    for (String keyword : IN_PLACE_ONE) {
      // then and else apply only beside an if.
      boolean applies = !keyword.equals("then") && !keyword.equals("else") || schema.has("if");
      if (applies && schema.path(keyword).isObject()) {
        next.add(schema.get(keyword));
      }
    }
    for (String keyword : IN_PLACE_ARRAYS) {
      schema.path(keyword).forEach(s -> addIfObject(next, s));
    }
    for (String keyword : IN_PLACE_MAPS) {
      if (schema.path(keyword).isObject()) {
        schema.get(keyword).forEach(s -> addIfObject(next, s));
      }
    }
    return next;
  }

  private static void addIfObject(List<JsonNode> into, JsonNode schema) {
    if (schema.isObject()) {
      into.add(schema);
    }
  }

  /** What a reference within the schema names, or null when it names nothing there. */
  private JsonNode resolve(String ref) {
    if (!ref.startsWith("#")) {
      return null; // refused by the reference check
    }
    String fragment;
    try {
      fragment = URLDecoder.decode(ref.substring(1).replace("+", "%2B"), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return null;
    }
    if (fragment.isEmpty()) {
      return root;
    }
    if (!fragment.startsWith("/")) {
      return anchors.get(fragment);
    }
    try {
      JsonNode target = root.at(fragment);
      return target.isMissingNode() ? null : target;
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  private String pointerOf(JsonNode node) {
    if (!places.containsKey(node)) {
      return "(a schema a reference names)";
    }
    Deque<String> path = new ArrayDeque<>();
    for (Place place = places.get(node); place.parent() != null; ) {
      if (place.name() != null) {
        path.addFirst(place.name());
      }
      path.addFirst(place.keyword());
      place = places.get(place.parent());
    }
    path.addFirst(rootPointer);
    return DefinitionValidator.pointer(path);
  }
}
