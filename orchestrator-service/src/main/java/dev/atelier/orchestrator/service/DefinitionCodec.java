package dev.atelier.orchestrator.service;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.atelier.orchestrator.model.AgentDefinition;
import dev.atelier.orchestrator.model.ClientWordedException;
import dev.atelier.orchestrator.model.WorkflowDefinition;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * Reads definitions strictly (an unknown field is a fault, not silently ignored: a typo like {@code
 * need:} must not change what runs), from JSON bodies or YAML resources, and fingerprints their
 * content so unchanged re-submissions do not create versions.
 */
@ApplicationScoped
public class DefinitionCodec {

  private final ObjectMapper strict;
  private final ObjectMapper canonical;

  DefinitionCodec(ObjectMapper mapper) {
    this.strict = mapper.copy().enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    this.canonical =
        JsonMapper.builder()
            .addModule(new JavaTimeModule())
            .enable(MapperFeature.SORT_PROPERTIES_ALPHABETICALLY)
            .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
            .enable(JsonNodeFeature.WRITE_PROPERTIES_SORTED)
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .build();
  }

  public AgentDefinition agent(JsonNode body) {
    return read(body, AgentDefinition.class, "agent definition");
  }

  public WorkflowDefinition workflow(JsonNode body) {
    return read(body, WorkflowDefinition.class, "workflow definition");
  }

  /**
   * Reads a YAML (or JSON) classpath resource as a tree. SnakeYAML reads it, so anchors and aliases
   * (a retry policy shared by all steps) resolve as YAML authors expect.
   */
  public JsonNode resource(String path) {
    try (InputStream in =
        Thread.currentThread().getContextClassLoader().getResourceAsStream(path)) {
      if (in == null) {
        throw new IllegalStateException("missing built-in definition " + path);
      }
      Object tree = new Yaml(new SafeConstructor(new LoaderOptions())).load(in);
      return strict.valueToTree(tree);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read built-in definition " + path, e);
    }
  }

  /** SHA-256 of the definition's content with its identity fields left out. */
  public String contentHash(Object definitionWithoutIdentity) {
    try {
      byte[] bytes =
          canonical.writeValueAsString(definitionWithoutIdentity).getBytes(StandardCharsets.UTF_8);
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (JsonProcessingException | NoSuchAlgorithmException e) {
      throw new IllegalStateException("cannot fingerprint a definition", e);
    }
  }

  private <T> T read(JsonNode body, Class<T> type, String what) {
    if (body == null || !body.isObject()) {
      throw new IllegalArgumentException("the " + what + " must be a JSON object");
    }
    String nullItem = nullInList(body, "");
    if (nullItem != null) {
      // The records copy their lists, which refuse nulls, with a message naming only the record.
      throw new IllegalArgumentException(
          "cannot read the " + what + " at " + nullItem + ": null is not allowed in a list");
    }
    try {
      return strict.treeToValue(body, type);
    } catch (UnrecognizedPropertyException e) {
      throw new IllegalArgumentException(
          "unknown field '" + e.getPropertyName() + "' at " + path(e) + " of the " + what);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(
          "cannot read the " + what + " at " + path(e) + ": " + reason(e));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("cannot read the " + what + ": " + e.getMessage());
    }
  }

  /**
   * What is wrong with the value, in the API's terms: Jackson's own message names Java types
   * ({@code java.lang.Integer}, the record's class), which mean nothing to a client.
   */
  static String reason(JsonProcessingException e) {
    if (e instanceof ClientWordedException) {
      return e.getOriginalMessage(); // a duration, half a surrogate pair: already in plain words
    }
    if (e instanceof MismatchedInputException m && m.getTargetType() != null) {
      return "expected " + kind(m.getTargetType());
    }
    return "invalid value";
  }

  /**
   * The path of the first null item of a list in {@code node} (an agent's output schema aside), or
   * null. Recursive: the parser bounds the depth.
   */
  private static String nullInList(JsonNode node, String at) {
    if (node.isArray()) {
      for (int i = 0; i < node.size(); i++) {
        String item = at + "[" + i + "]";
        String found = node.get(i).isNull() ? item : nullInList(node.get(i), item);
        if (found != null) {
          return found;
        }
      }
    } else if (node.isObject()) {
      for (var fields = node.fields(); fields.hasNext(); ) {
        var field = fields.next();
        if (at.isEmpty() && field.getKey().equals("outputSchema")) {
          continue; // a JSON Schema, read as it is: "enum": [null] is valid there
        }
        String found =
            nullInList(field.getValue(), at.isEmpty() ? field.getKey() : at + "." + field.getKey());
        if (found != null) {
          return found;
        }
      }
    }
    return null;
  }

  private static String kind(Class<?> type) {
    if (Number.class.isAssignableFrom(type) || (type.isPrimitive() && type != boolean.class)) {
      return "a number";
    }
    if (type == Boolean.class || type == boolean.class) {
      return "true or false";
    }
    if (type == String.class || type.isEnum()) {
      return "a string";
    }
    if (type.isArray() || java.util.Collection.class.isAssignableFrom(type)) {
      return "an array";
    }
    if (java.time.Duration.class == type) {
      return "a duration (e.g. 500ms, 2s, 10m, 1h or PT10M)";
    }
    return "an object";
  }

  private static String path(JsonProcessingException e) {
    if (e instanceof com.fasterxml.jackson.databind.JsonMappingException m
        && !m.getPath().isEmpty()) {
      StringBuilder sb = new StringBuilder();
      for (var ref : m.getPath()) {
        if (ref.getFieldName() != null) {
          sb.append(sb.isEmpty() ? "" : ".").append(ref.getFieldName());
        } else {
          sb.append('[').append(ref.getIndex()).append(']');
        }
      }
      return sb.toString();
    }
    return "the top level";
  }
}
