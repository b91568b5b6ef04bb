package dev.atelier.orchestrator.model;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.SerializerProvider;
import java.io.IOException;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations in definitions are written the way people write them ({@code 500ms}, {@code 2s}, {@code
 * 10m}, {@code 1h}, {@code 1d}); ISO-8601 ({@code PT10M}) is accepted too.
 */
public final class DurationText {

  private static final Pattern SIMPLE = Pattern.compile("(\\d{1,9})(ms|s|m|h|d)");

  private DurationText() {}

  public static Duration parse(String text) {
    String t = text == null ? "" : text.trim();
    Matcher m = SIMPLE.matcher(t);
    if (m.matches()) {
      long n = Long.parseLong(m.group(1));
      return switch (m.group(2)) {
        case "ms" -> Duration.ofMillis(n);
        case "s" -> Duration.ofSeconds(n);
        case "m" -> Duration.ofMinutes(n);
        case "h" -> Duration.ofHours(n);
        default -> Duration.ofDays(n);
      };
    }
    try {
      return Duration.parse(t);
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException(
          "not a duration: '" + text + "' (write e.g. 500ms, 2s, 10m, 1h or PT10M)", e);
    }
  }

  public static String format(Duration d) {
    long ms = d.toMillis();
    if (ms != 0 && d.toNanos() % 1_000_000 == 0) {
      if (ms % 86_400_000 == 0) {
        return ms / 86_400_000 + "d";
      }
      if (ms % 3_600_000 == 0) {
        return ms / 3_600_000 + "h";
      }
      if (ms % 60_000 == 0) {
        return ms / 60_000 + "m";
      }
      if (ms % 1000 == 0) {
        return ms / 1000 + "s";
      }
      if (ms > 0) {
        return ms + "ms";
      }
    }
    return d.toString();
  }

  /** Reads a duration from text (or a number of seconds). */
  public static final class Deserializer extends JsonDeserializer<Duration> {
    @Override
    public Duration deserialize(JsonParser p, DeserializationContext ctx) throws IOException {
      if (p.currentToken() == JsonToken.VALUE_NUMBER_INT) {
        return Duration.ofSeconds(p.getLongValue());
      }
      String text = p.getValueAsString();
      try {
        return parse(text);
      } catch (IllegalArgumentException e) {
        throw new ClientWordedException(p, e.getMessage(), text, Duration.class);
      }
    }
  }

  /** Writes a duration in the short form. */
  public static final class Serializer extends JsonSerializer<Duration> {
    @Override
    public void serialize(Duration value, JsonGenerator gen, SerializerProvider serializers)
        throws IOException {
      gen.writeString(format(value));
    }
  }
}
