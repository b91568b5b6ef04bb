package dev.atelier.gateway.service;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.UncheckedIOException;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A validated OpenAI chat completion request. The body is kept as a JSON tree so that fields the
 * gateway does not interpret (tools, tool_choice, logprobs, seed, ...) reach a real provider
 * unchanged.
 */
public final class ChatRequest {

  /** Most choices one request may ask for ({@code n}), as OpenAI allows. */
  static final int MAX_CHOICES = 128;

  private static final Set<String> ROLES =
      Set.of("system", "developer", "user", "assistant", "tool", "function");
  private static final Pattern SCHEMA_NAME = Pattern.compile("[a-zA-Z0-9_-]{1,64}");

  /** What kind of answer the caller asked for. */
  public enum FormatType {
    TEXT,
    JSON_OBJECT,
    JSON_SCHEMA
  }

  /** The requested {@code response_format}; {@code schema} is set for JSON_SCHEMA only. */
  public record ResponseFormat(FormatType type, String name, JsonNode schema, boolean strict) {
    static final ResponseFormat TEXT = new ResponseFormat(FormatType.TEXT, null, null, false);
  }

  private final ObjectNode body;
  private final String model;
  private final boolean stream;
  private final boolean includeUsage;
  private final ResponseFormat responseFormat;
  private final Integer maxTokens;
  private final int n;
  private final byte[] raw;

  private ChatRequest(ObjectNode body, byte[] raw) {
    this.body = body;
    this.raw = raw;
    this.model = ModelName.require(body);
    requireMessages(body);
    this.stream = optionalBoolean(body, "stream", false);
    JsonNode options = body.get("stream_options");
    if (options != null && !options.isNull()) {
      if (!options.isObject()) {
        throw GatewayException.invalid("stream_options", "'stream_options' must be an object");
      }
      if (!stream) {
        throw GatewayException.invalid(
            "stream_options",
            "The 'stream_options' parameter is only allowed when 'stream' is true");
      }
      this.includeUsage = optionalBoolean((ObjectNode) options, "include_usage", false);
    } else {
      this.includeUsage = false;
    }
    checkRange(body, "temperature", 0, 2);
    checkRange(body, "top_p", 0, 1);
    Integer maxCompletion = positiveInt(body, "max_completion_tokens");
    Integer max = positiveInt(body, "max_tokens");
    this.maxTokens = maxCompletion != null ? maxCompletion : max;
    Integer choices = positiveInt(body, "n");
    if (choices != null && choices > MAX_CHOICES) {
      throw GatewayException.invalid("n", "'n' must be at most " + MAX_CHOICES);
    }
    this.n = choices == null ? 1 : choices;
    this.responseFormat = responseFormat(body.get("response_format"));
    JsonNode tools = body.get("tools");
    if (tools != null && !tools.isNull() && !tools.isArray()) {
      throw GatewayException.invalid("tools", "'tools' must be an array");
    }
  }

  /**
   * Most JSON tokens a chat request may hold ({@link BoundedJson}): tens of thousands of messages.
   */
  static final long MAX_JSON_TOKENS = 200_000;

  /** A reader for {@link #parse} that stops at {@link #MAX_JSON_TOKENS}. */
  public static BoundedJson parser(ObjectMapper mapper) {
    return new BoundedJson(mapper, MAX_JSON_TOKENS);
  }

  /**
   * Parses and validates a request body.
   *
   * @throws GatewayException 400 naming the first invalid field
   */
  public static ChatRequest parse(BoundedJson parser, byte[] json) {
    return new ChatRequest(parser.readObject(json), json);
  }

  public ObjectNode body() {
    return body;
  }

  public String model() {
    return model;
  }

  public boolean stream() {
    return stream;
  }

  /** True when the caller asked for a final usage chunk ({@code stream_options.include_usage}). */
  public boolean includeUsage() {
    return includeUsage;
  }

  public ResponseFormat responseFormat() {
    return responseFormat;
  }

  /** {@code max_completion_tokens}, else {@code max_tokens}, else {@code null}. */
  public Integer maxTokens() {
    return maxTokens;
  }

  public int n() {
    return n;
  }

  public ArrayNode messages() {
    return (ArrayNode) body.get("messages");
  }

  public Double temperature() {
    JsonNode t = body.get("temperature");
    return t == null || t.isNull() ? null : t.asDouble();
  }

  /** The text of the last user message (the most specific words of the prompt). */
  public String lastUserText() {
    ArrayNode messages = messages();
    for (int i = messages.size() - 1; i >= 0; i--) {
      JsonNode m = messages.get(i);
      if ("user".equals(m.path("role").asText())) {
        return text(m.get("content"));
      }
    }
    return messages.isEmpty() ? "" : text(messages.get(messages.size() - 1).get("content"));
  }

  /**
   * The body to send upstream: the caller's body with the provider's model name, and, for streams,
   * {@code stream_options.include_usage=true} so the provider reports usage even when the caller
   * did not ask for it (the extra chunk is stripped before it reaches the caller).
   */
  /**
   * The body to send upstream: the caller's own bytes when nothing needs changing (the same model
   * name, and for a stream the usage chunk already requested), which spares a copy and a
   * serialisation of the whole prompt; otherwise a copy with the upstream model and, for a stream,
   * {@code stream_options.include_usage} set. The copy is shallow: only top-level fields change,
   * the messages are shared with the caller's request, which is never modified.
   */
  public byte[] upstreamBody(ObjectMapper mapper, String upstreamModel) {
    if (raw != null && model.equals(upstreamModel) && (!stream || includeUsage)) {
      return raw;
    }
    ObjectNode copy = body.objectNode();
    copy.setAll(body);
    copy.put("model", upstreamModel);
    if (stream) {
      ObjectNode options = copy.objectNode();
      if (body.get("stream_options") instanceof ObjectNode o) {
        options.setAll(o);
      }
      options.put("include_usage", true);
      copy.set("stream_options", options);
    }
    try {
      return mapper.writeValueAsBytes(copy);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The text of a message's content: a string, or the text parts of a content array. */
  public static String text(JsonNode content) {
    if (content == null || content.isNull()) {
      return "";
    }
    if (content.isTextual()) {
      return content.asText();
    }
    if (content.isArray()) {
      StringBuilder sb = new StringBuilder();
      for (JsonNode part : content) {
        JsonNode text = part.get("text");
        if (text != null && text.isTextual()) {
          if (!sb.isEmpty()) {
            sb.append('\n');
          }
          sb.append(text.asText());
        }
      }
      return sb.toString();
    }
    return content.toString();
  }

  private static void requireMessages(ObjectNode body) {
    JsonNode messages = body.get("messages");
    if (messages == null || messages.isNull()) {
      throw GatewayException.invalid(
          "missing_required_parameter", "messages", "Missing required parameter: 'messages'.");
    }
    if (!messages.isArray() || messages.isEmpty()) {
      throw GatewayException.invalid("messages", "'messages' must be a non-empty array");
    }
    for (int i = 0; i < messages.size(); i++) {
      JsonNode m = messages.get(i);
      String param = "messages[" + i + "]";
      if (!m.isObject()) {
        throw GatewayException.invalid(param, param + " must be an object");
      }
      JsonNode role = m.get("role");
      if (role == null || !role.isTextual() || !ROLES.contains(role.asText())) {
        throw GatewayException.invalid(
            param + ".role",
            param + ".role must be one of " + String.join(", ", ROLES.stream().sorted().toList()));
      }
      JsonNode content = m.get("content");
      boolean assistant = "assistant".equals(role.asText());
      if (content == null || content.isNull()) {
        if (!assistant) {
          throw GatewayException.invalid(param + ".content", param + ".content is required");
        }
      } else if (!content.isTextual() && !content.isArray()) {
        throw GatewayException.invalid(
            param + ".content", param + ".content must be a string or an array of content parts");
      }
    }
  }

  private static boolean optionalBoolean(ObjectNode node, String field, boolean fallback) {
    JsonNode v = node.get(field);
    if (v == null || v.isNull()) {
      return fallback;
    }
    if (!v.isBoolean()) {
      throw GatewayException.invalid(field, "'" + field + "' must be a boolean");
    }
    return v.asBoolean();
  }

  private static void checkRange(ObjectNode body, String field, double min, double max) {
    JsonNode v = body.get(field);
    if (v == null || v.isNull()) {
      return;
    }
    if (!v.isNumber() || v.asDouble() < min || v.asDouble() > max) {
      throw GatewayException.invalid(
          field, "'" + field + "' must be a number between " + min + " and " + max);
    }
  }

  private static Integer positiveInt(ObjectNode body, String field) {
    JsonNode v = body.get(field);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isIntegralNumber() || v.asLong() < 1 || v.asLong() > Integer.MAX_VALUE) {
      throw GatewayException.invalid(field, "'" + field + "' must be a positive integer");
    }
    return v.asInt();
  }

  private static ResponseFormat responseFormat(JsonNode format) {
    if (format == null || format.isNull()) {
      return ResponseFormat.TEXT;
    }
    if (!format.isObject()) {
      throw GatewayException.invalid("response_format", "'response_format' must be an object");
    }
    String type = format.path("type").asText("");
    switch (type) {
      case "text":
        return ResponseFormat.TEXT;
      case "json_object":
        return new ResponseFormat(FormatType.JSON_OBJECT, null, null, false);
      case "json_schema":
        JsonNode spec = format.get("json_schema");
        if (spec == null || !spec.isObject()) {
          throw GatewayException.invalid(
              "response_format.json_schema",
              "'response_format.json_schema' is required when type is json_schema");
        }
        String name = spec.path("name").asText("");
        if (!SCHEMA_NAME.matcher(name).matches()) {
          throw GatewayException.invalid(
              "response_format.json_schema.name",
              "'response_format.json_schema.name' must be 1-64 letters, digits, '_' or '-'");
        }
        JsonNode schema = spec.get("schema");
        if (schema == null || !schema.isObject()) {
          throw GatewayException.invalid(
              "response_format.json_schema.schema",
              "'response_format.json_schema.schema' must be a JSON Schema object");
        }
        return new ResponseFormat(
            FormatType.JSON_SCHEMA, name, schema, spec.path("strict").asBoolean(false));
      default:
        throw GatewayException.invalid(
            "response_format.type",
            "'response_format.type' must be one of text, json_object, json_schema");
    }
  }
}
