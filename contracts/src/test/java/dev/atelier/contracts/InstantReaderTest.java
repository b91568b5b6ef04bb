package dev.atelier.contracts;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.deser.DefaultDeserializationContext;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The fast path must be invisible: for every input, EventCodec's mapper gives the same Instant, or
 * the same error, as a mapper with only JavaTimeModule.
 */
class InstantReaderTest {

  private static final ObjectMapper REFERENCE =
      new ObjectMapper().registerModule(new JavaTimeModule());

  record Holder(Instant at) {}

  @Test
  void everyInputReadsAsJavaTimeModuleReadsIt() {
    List<String> inputs = new ArrayList<>();
    SplittableRandom random = new SplittableRandom(7);
    for (int i = 0; i < 20_000; i++) {
      long second = random.nextLong(-62_167_219_200L, 253_402_300_799L); // years 0000..9999
      int nanos =
          switch (i % 4) {
            case 0 -> 0;
            case 1 -> random.nextInt(1000) * 1_000_000;
            case 2 -> random.nextInt(1_000_000) * 1000;
            default -> random.nextInt(1_000_000_000);
          };
      String s = Instant.ofEpochSecond(second, nanos).toString();
      inputs.add(s);
      // Every fraction length, not only the 0, 3, 6 or 9 digits toString writes.
      if (s.contains(".")) {
        inputs.add(s.substring(0, s.length() - 2) + "Z");
      } else {
        inputs.add(s.substring(0, s.length() - 1) + "." + (i % 10) + "Z");
      }
    }
    inputs.addAll(
        List.of(
            "2026-12-04T10:15:30Z",
            "2026-12-04T10:15:30.1Z",
            "2026-12-04T10:15:30.123456789Z",
            "2026-12-04T10:15:30.1234567890Z",
            "2026-12-04T10:15:30.Z",
            "2026-12-04T23:59:60Z",
            "2026-12-04T24:00:00Z",
            "2026-12-04T10:60:00Z",
            "2026-02-29T10:00:00Z",
            "2024-02-29T10:00:00Z",
            "2026-02-30T10:00:00Z",
            "2026-13-01T10:00:00Z",
            "2026-00-01T10:00:00Z",
            "2026-12-00T10:00:00Z",
            "0000-01-01T00:00:00Z",
            "+10000-01-01T00:00:00Z",
            "-0001-01-01T00:00:00Z",
            "2026-12-04t10:15:30Z",
            "2026-12-04T10:15:30z",
            "2026-12-04T10:15:30+01:00",
            "2026-12-04T10:15:30.5+00:00",
            " 2026-12-04T10:15:30Z",
            "2026-12-04T10:15:30Z ",
            "2026-12-04 10:15:30Z",
            "2026-12-04T10:15Z",
            "2026-12-04T1a:15:30Z",
            "2026-1２-04T10:15:30Z",
            "2026-12-04T10:15:30.12a4Z",
            "",
            "Z",
            "yesterday"));
    for (String s : inputs) {
      String json = "{\"at\":\"" + s + "\"}";
      assertThat(read(EventCodec.mapper(), json)).as(s).isEqualTo(read(REFERENCE, json));
    }
    // Numbers (epoch seconds with a fraction) and null take the fallback as well.
    for (String json : List.of("{\"at\":1764843330.5}", "{\"at\":1764843330}", "{\"at\":null}")) {
      assertThat(read(EventCodec.mapper(), json)).as(json).isEqualTo(read(REFERENCE, json));
    }
  }

  @Test
  void thePlainUtcFormTakesTheFastPath() throws Exception {
    ObjectMapper mapper = EventCodec.mapper();
    assertThat(
            ((DefaultDeserializationContext) mapper.getDeserializationContext())
                .createDummyInstance(mapper.getDeserializationConfig())
                .findRootValueDeserializer(mapper.constructType(Instant.class)))
        .isInstanceOf(InstantReader.class);
    assertThat(InstantReader.parse("2026-12-04T10:15:30.123456Z"))
        .isEqualTo(Instant.parse("2026-12-04T10:15:30.123456Z"));
    assertThat(InstantReader.parse("2026-12-04T10:15:30+01:00")).isNull();
    assertThat(InstantReader.parse("2026-12-04T23:59:60Z")).isNull();
  }

  /** The instant read, or the kind and message of the error. */
  private static Object read(ObjectMapper mapper, String json) {
    try {
      return mapper.readValue(json, Holder.class).at();
    } catch (Exception e) {
      return e.getClass().getName() + ": " + e.getMessage().lines().findFirst().orElse("");
    }
  }
}
