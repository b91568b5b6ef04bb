package dev.atelier.contracts;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.Map;

/**
 * Writes and reads Atelier events as JSON. Instants are ISO-8601 strings, money is a plain decimal
 * number, unknown fields are ignored (a newer producer may add fields), and a body that does not
 * match its declared type is rejected with a {@link MalformedEventException} naming the fault.
 */
public final class EventCodec {

  private static final ObjectMapper MAPPER =
      new ObjectMapper()
          .registerModule(new JavaTimeModule())
          // Registered after JavaTimeModule, so it wins for Instant; it hands all but the plain
          // UTC form back to JavaTimeModule's deserializer.
          .registerModule(
              new SimpleModule("atelier-instants")
                  .addDeserializer(Instant.class, new InstantReader()))
          .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
          .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
          .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
          // Keep 4.250000 as 4.250000 when events pass through a tree: money keeps its scale.
          .configure(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES, false)
          .setSerializationInclusion(JsonInclude.Include.NON_NULL);

  private static final Map<String, Class<? extends AtelierEvent>> TYPES =
      Map.of(
          StepRequested.TYPE, StepRequested.class,
          StepCompleted.TYPE, StepCompleted.class,
          StepFailed.TYPE, StepFailed.class,
          LlmCallRecorded.TYPE, LlmCallRecorded.class,
          WorkflowStatusChanged.TYPE, WorkflowStatusChanged.class,
          BudgetThresholdCrossed.TYPE, BudgetThresholdCrossed.class);

  private EventCodec() {}

  public static byte[] write(AtelierEvent event) {
    try {
      return MAPPER.writeValueAsBytes(event);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Reads an event of a known class; the body's {@code type} must be that class's type. */
  public static <T extends AtelierEvent> T read(byte[] body, Class<T> type) {
    T event = bindOrNull(body, type);
    if (event != null && isComplete(event) && TYPES.get(event.type()) == type) {
      return event;
    }
    // Not a valid event of this class: the strict path below says why.
    JsonNode tree = envelope(body);
    String declared = tree.get("type").asText();
    if (TYPES.get(declared) != type) {
      throw new MalformedEventException(
          "expected a " + type.getSimpleName() + " event, got type " + declared, null);
    }
    return convert(tree, type);
  }

  /** Reads an event whose class is given by its {@code type} field. */
  public static AtelierEvent read(byte[] body) {
    String peekedType = peekType(body);
    Class<? extends AtelierEvent> peeked = peekedType == null ? null : TYPES.get(peekedType);
    if (peeked != null) {
      AtelierEvent event = bindOrNull(body, peeked);
      if (event != null && isComplete(event) && TYPES.get(event.type()) == peeked) {
        return event;
      }
    }
    JsonNode tree = envelope(body);
    String declared = tree.get("type").asText();
    Class<? extends AtelierEvent> cls = TYPES.get(declared);
    if (cls == null) {
      throw new MalformedEventException("unknown event type: " + declared, null);
    }
    return convert(tree, cls);
  }

  /** The mapper the codec uses, for callers that embed event parts (agent specs) in other JSON. */
  public static ObjectMapper mapper() {
    return MAPPER;
  }

  /*
   * Decoding: the fast path binds the bytes straight to the record (one parse) and accepts the
   * result only if it passes the same checks the strict path makes (the envelope fields are
   * present and the type names this class). Anything else -- not JSON, a missing field, a wrong
   * type, a value that does not bind -- is decoded again by the strict path (tree, envelope checks,
   * conversion), which names the fault exactly as before. Valid events, nearly all traffic, are
   * parsed once; only rejected ones pay twice.
   */

  /** The record bound from the body, or {@code null} if binding fails for any reason. */
  private static <T extends AtelierEvent> T bindOrNull(byte[] body, Class<T> type) {
    try {
      return MAPPER.readValue(body, type);
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  private static boolean isComplete(AtelierEvent event) {
    return event.eventId() != null && event.type() != null && event.occurredAt() != null;
  }

  /**
   * The top-level {@code type} string of a JSON object, read with the streaming parser and stopping
   * there (producers write it second, after the event id); {@code null} if there is none or the
   * body is not a JSON object.
   */
  private static String peekType(byte[] body) {
    try (JsonParser p = MAPPER.getFactory().createParser(body)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        return null;
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        JsonToken value = p.nextToken();
        if ("type".equals(name)) {
          return value == JsonToken.VALUE_STRING ? p.getText() : null;
        }
        p.skipChildren();
      }
      return null;
    } catch (IOException e) {
      return null;
    }
  }

  /** Parses the body and checks the fields every event has, so the error names what is missing. */
  private static JsonNode envelope(byte[] body) {
    JsonNode tree;
    try {
      tree = MAPPER.readTree(body);
    } catch (IOException e) {
      throw new MalformedEventException("body is not JSON: " + rootMessage(e), e);
    }
    if (tree == null || !tree.isObject()) {
      throw new MalformedEventException("body is not a JSON object", null);
    }
    for (String field : new String[] {"eventId", "type", "occurredAt"}) {
      if (!tree.hasNonNull(field)) {
        throw new MalformedEventException(field + " is missing", null);
      }
    }
    return tree;
  }

  private static <T extends AtelierEvent> T convert(JsonNode tree, Class<T> type) {
    T event;
    try {
      event = MAPPER.treeToValue(tree, type);
    } catch (IOException | IllegalArgumentException e) {
      throw new MalformedEventException(
          "cannot read " + tree.get("type").asText() + ": " + rootMessage(e), e);
    }
    // Jackson reads "" as a null UUID or Instant. The event id is the consumers' deduplication key
    // and every consumer stores or orders by the time, so neither may be empty.
    if (event.eventId() == null) {
      throw new MalformedEventException("eventId is empty", null);
    }
    if (event.occurredAt() == null) {
      throw new MalformedEventException("occurredAt is empty", null);
    }
    return event;
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    String message = t.getMessage();
    // Jackson appends source locations that repeat the whole payload; the first line names the
    // fault.
    return message == null
        ? t.getClass().getSimpleName()
        : message.lines().findFirst().orElse(message);
  }
}
