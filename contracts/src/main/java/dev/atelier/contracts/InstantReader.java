package dev.atelier.contracts;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.deser.std.StdScalarDeserializer;
import com.fasterxml.jackson.datatype.jsr310.deser.InstantDeserializer;
import java.io.IOException;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDate;

/**
 * Reads the one form producers write, {@code 2026-12-04T10:15:30.123456Z} (what {@link
 * Instant#toString()} gives: UTC, 0–9 fraction digits), without {@code DateTimeFormatter}, which
 * took half the time of decoding an {@code LlmCallRecorded} (two instants) at ingest. Anything else
 * — offsets, leap seconds, invalid dates, numbers, whitespace — goes to jackson-datatype-jsr310's
 * own deserializer unchanged, so every value and every error is exactly what it was.
 */
final class InstantReader extends StdScalarDeserializer<Instant> {

  private static final long serialVersionUID = 1L;

  private static final JsonDeserializer<Instant> FALLBACK = InstantDeserializer.INSTANT;

  InstantReader() {
    super(Instant.class);
  }

  @Override
  public Instant deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
    if (p.currentToken() == JsonToken.VALUE_STRING) {
      Instant fast = parse(p.getText());
      if (fast != null) {
        return fast;
      }
    }
    return FALLBACK.deserialize(p, ctxt);
  }

  /** The instant of {@code s} in the plain UTC form, or null when {@code s} is anything else. */
  static Instant parse(String s) {
    int n = s.length();
    // yyyy-MM-ddTHH:mm:ssZ is 20 characters; a fraction adds '.' and 1–9 digits.
    if (n < 20 || n > 30 || n == 21 || s.charAt(n - 1) != 'Z') {
      return null;
    }
    if (s.charAt(4) != '-'
        || s.charAt(7) != '-'
        || s.charAt(10) != 'T'
        || s.charAt(13) != ':'
        || s.charAt(16) != ':') {
      return null;
    }
    int year = digits(s, 0, 4);
    int month = digits(s, 5, 2);
    int day = digits(s, 8, 2);
    int hour = digits(s, 11, 2);
    int minute = digits(s, 14, 2);
    int second = digits(s, 17, 2);
    if ((year | month | day | hour | minute | second) < 0
        || hour > 23
        || minute > 59
        || second > 59) {
      return null;
    }
    int nanos = 0;
    if (n > 20) {
      if (s.charAt(19) != '.') {
        return null;
      }
      int fraction = n - 21;
      nanos = digits(s, 20, fraction);
      if (nanos < 0) {
        return null;
      }
      for (int i = fraction; i < 9; i++) {
        nanos *= 10;
      }
    }
    long epochDay;
    try {
      epochDay = LocalDate.of(year, month, day).toEpochDay();
    } catch (DateTimeException e) {
      return null; // e.g. February 30th: the fallback reports it as before
    }
    return Instant.ofEpochSecond(epochDay * 86_400 + hour * 3_600 + minute * 60 + second, nanos);
  }

  /** The decimal value of {@code length} ASCII digits at {@code from}, or -1 if one is not. */
  private static int digits(String s, int from, int length) {
    int value = 0;
    for (int i = from; i < from + length; i++) {
      int d = s.charAt(i) - '0';
      if (d < 0 || d > 9) {
        return -1;
      }
      value = value * 10 + d;
    }
    return value;
  }
}
