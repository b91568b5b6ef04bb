package dev.atelier.contracts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class EventCodecTest {

  static Iterable<AtelierEvent> events() {
    return Samples.all();
  }

  @ParameterizedTest
  @MethodSource("events")
  void everyEventSurvivesARoundTripByClassAndByType(AtelierEvent event) {
    byte[] json = EventCodec.write(event);

    assertThat(EventCodec.read(json, event.getClass())).isEqualTo(event);
    assertThat(EventCodec.read(json)).isEqualTo(event);
  }

  /**
   * Jackson reads "" as a null UUID or Instant: such an event would reach a consumer without its
   * deduplication key or its time, and fail there (a NullPointerException on the delivery thread).
   */
  @ParameterizedTest
  @MethodSource("events")
  void anEmptyEventIdOrOccurredAtIsRejectedForEveryType(AtelierEvent event) throws Exception {
    for (String field : new String[] {"eventId", "occurredAt"}) {
      ObjectNode tree = (ObjectNode) EventCodec.mapper().readTree(EventCodec.write(event));
      tree.put(field, "");
      byte[] body = EventCodec.mapper().writeValueAsBytes(tree);

      assertThatThrownBy(() -> EventCodec.read(body, event.getClass()))
          .isInstanceOf(MalformedEventException.class)
          .hasMessage(field + " is empty");
      assertThatThrownBy(() -> EventCodec.read(body))
          .isInstanceOf(MalformedEventException.class)
          .hasMessage(field + " is empty");
    }
  }

  @Test
  void instantsAreIsoStringsAndMoneyIsAPlainExactDecimal() throws Exception {
    JsonNode tree = EventCodec.mapper().readTree(EventCodec.write(Samples.llmCall()));

    assertThat(tree.get("occurredAt").asText()).isEqualTo("2026-11-22T10:15:30.123456Z");
    assertThat(tree.get("costUsd").isNumber()).isTrue();
    assertThat(tree.get("costUsd").decimalValue())
        .isEqualByComparingTo(new BigDecimal("1.23456789E-10"));
    assertThat(
            EventCodec.read(EventCodec.write(Samples.llmCall()), LlmCallRecorded.class).costUsd())
        .isEqualTo(new BigDecimal("0.000000000123456789"));
  }

  @Test
  void unknownCostIsAbsentNotZero() throws Exception {
    LlmCallRecorded known = Samples.llmCall();
    LlmCallRecorded unknown =
        new LlmCallRecorded(
            known.eventId(),
            known.type(),
            known.occurredAt(),
            known.workflowId(),
            known.stepId(),
            known.agent(),
            known.conversationId(),
            known.team(),
            known.operation(),
            known.provider(),
            known.requestModel(),
            known.responseModel(),
            known.status(),
            known.errorCode(),
            known.streamed(),
            known.inputTokens(),
            known.cachedInputTokens(),
            known.outputTokens(),
            known.reasoningTokens(),
            known.usageSource(),
            null,
            null,
            known.startedAt(),
            known.latencyMs(),
            known.timeToFirstTokenMs(),
            known.simulated(),
            known.traceId(),
            known.spanId(),
            known.fallbackPath());

    JsonNode tree = EventCodec.mapper().readTree(EventCodec.write(unknown));

    assertThat(tree.has("costUsd")).isFalse();
    assertThat(EventCodec.read(EventCodec.write(unknown), LlmCallRecorded.class).costUsd())
        .isNull();
  }

  @Test
  void artifactRefsAreWrittenAsNameAtVersion() throws Exception {
    JsonNode tree = EventCodec.mapper().readTree(EventCodec.write(Samples.stepRequested()));

    assertThat(tree.get("inputs").get(0).asText()).isEqualTo("analysis@1");
  }

  @Test
  void fieldsAddedByANewerProducerAreIgnored() {
    String json =
        new String(EventCodec.write(Samples.stepFailed()), StandardCharsets.UTF_8)
            .replaceFirst("\\{", "{\"addedInV2\":{\"x\":1},");

    assertThat(EventCodec.read(json.getBytes(StandardCharsets.UTF_8))).isEqualTo(readBack(json));
  }

  private static AtelierEvent readBack(String json) {
    return EventCodec.read(json.getBytes(StandardCharsets.UTF_8), StepFailed.class);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "not json",
        "[1,2]",
        "{\"type\":\"atelier.unknown.v1\",\"eventId\":\"6f1c7a52-8d0e-4b8e-9a55-0f4a2a1e9c31\"}",
        "{\"type\":\"atelier.step.failed.v1\",\"occurredAt\":\"2026-11-22T10:15:30Z\"}",
        "{\"type\":\"atelier.step.failed.v1\",\"eventId\":\"nope\",\"occurredAt\":\"2026-11-22T10:15:30Z\"}",
        "{\"type\":\"atelier.step.failed.v1\",\"eventId\":\"6f1c7a52-8d0e-4b8e-9a55-0f4a2a1e9c31\","
            + "\"occurredAt\":\"2026-11-22T10:15:30Z\",\"attempt\":null}",
        "{\"type\":\"atelier.step.completed.v1\",\"eventId\":\"6f1c7a52-8d0e-4b8e-9a55-0f4a2a1e9c31\","
            + "\"occurredAt\":\"2026-11-22T10:15:30Z\",\"attempt\":1,\"outputs\":[\"no-version\"]}"
      })
  void malformedBodiesAreRejectedWithAReason(String body) {
    assertThatThrownBy(() -> EventCodec.read(body.getBytes(StandardCharsets.UTF_8)))
        .isInstanceOf(MalformedEventException.class)
        .hasMessageNotContaining("dev.atelier")
        .message()
        .isNotBlank();
  }

  @Test
  void aMissingEnvelopeFieldIsNamed() {
    byte[] json = "{}".getBytes(StandardCharsets.UTF_8);

    assertThatThrownBy(() -> EventCodec.read(json, StepCompleted.class))
        .isInstanceOf(MalformedEventException.class)
        .hasMessage("eventId is missing");
  }

  @Test
  void readingAsTheWrongClassFailsClearly() {
    byte[] json = EventCodec.write(Samples.stepFailed());

    assertThatThrownBy(() -> EventCodec.read(json, StepCompleted.class))
        .isInstanceOf(MalformedEventException.class)
        .hasMessage("expected a StepCompleted event, got type atelier.step.failed.v1");
  }

  @Test
  void theTopLevelTypeDecidesTheClassWhereverItStandsAndNestedTypesDoNot() {
    StepFailed failed = Samples.stepFailed();
    String json = new String(EventCodec.write(failed), StandardCharsets.UTF_8);
    String nestedFirst =
        "{\"extra\":{\"type\":\"" + StepCompleted.TYPE + "\"}," + json.substring(1);
    String typeLast =
        json.replace("\"type\":\"" + StepFailed.TYPE + "\",", "").replaceFirst("}$", "")
            + ",\"type\":\""
            + StepFailed.TYPE
            + "\"}";

    assertThat(EventCodec.read(nestedFirst.getBytes(StandardCharsets.UTF_8))).isEqualTo(failed);
    assertThat(EventCodec.read(typeLast.getBytes(StandardCharsets.UTF_8))).isEqualTo(failed);
  }

  @Test
  void aRepeatedTypeFieldCountsWithItsLastValueAsInTheTree() {
    StepFailed failed = Samples.stepFailed();
    String json = new String(EventCodec.write(failed), StandardCharsets.UTF_8);
    byte[] body =
        ("{\"type\":\"" + StepCompleted.TYPE + "\"," + json.substring(1))
            .getBytes(StandardCharsets.UTF_8);

    assertThat(EventCodec.read(body)).isEqualTo(failed);
    assertThat(EventCodec.read(body, StepFailed.class)).isEqualTo(failed);
    assertThatThrownBy(() -> EventCodec.read(body, StepCompleted.class))
        .isInstanceOf(MalformedEventException.class)
        .hasMessage("expected a StepCompleted event, got type atelier.step.failed.v1");
  }

  static Stream<Arguments> rejectedBodies() {
    String id = "\"eventId\":\"6f1c7a52-8d0e-4b8e-9a55-0f4a2a1e9c31\"";
    String at = "\"occurredAt\":\"2026-11-22T10:15:30Z\"";
    return Stream.of(
        Arguments.of("", "body is not a JSON object"),
        Arguments.of("null", "body is not a JSON object"),
        Arguments.of("[1,2]", "body is not a JSON object"),
        Arguments.of("not json", "body is not JSON: Unrecognized token 'not'"),
        Arguments.of("{}", "eventId is missing"),
        Arguments.of("{" + id + ",\"type\":null," + at + "}", "type is missing"),
        Arguments.of("{" + id + ",\"type\":\"" + StepFailed.TYPE + "\"}", "occurredAt is missing"),
        Arguments.of("{" + id + "," + at + ",\"type\":5}", "unknown event type: 5"),
        Arguments.of(
            "{\"type\":\"atelier.unknown.v1\"," + id + "," + at + "}",
            "unknown event type: atelier.unknown.v1"),
        Arguments.of(
            "{\"type\":\"" + StepFailed.TYPE + "\"," + id + "," + at + ",\"attempt\":null}",
            "cannot read atelier.step.failed.v1: Cannot map `null` into type `int`"),
        Arguments.of(
            "{\"type\":\"" + StepFailed.TYPE + "\",\"eventId\":\"nope\"," + at + "}",
            "cannot read atelier.step.failed.v1: Cannot deserialize value of type `java.util.UUID`"),
        Arguments.of(
            "{\"type\":\""
                + StepCompleted.TYPE
                + "\","
                + id
                + ","
                + at
                + ",\"attempt\":1,\"outputs\":[\"no-version\"]}",
            "cannot read atelier.step.completed.v1: expected name@version, got: no-version"),
        Arguments.of(
            "{\"type\":\""
                + LlmCallRecorded.TYPE
                + "\","
                + id
                + ","
                + at
                + ",\"inputTokens\":\"x\"}",
            "cannot read atelier.llm.call.recorded.v1: Cannot deserialize value of type `long`"));
  }

  /**
   * Valid bodies are bound in one pass; a rejected one is decoded again step by step so the reason
   * names the first fault, in this order: not JSON, not an object, envelope field, type, content.
   */
  @ParameterizedTest
  @MethodSource("rejectedBodies")
  void aRejectedBodyIsNamedByItsFirstFault(String body, String reason) {
    assertThatThrownBy(() -> EventCodec.read(body.getBytes(StandardCharsets.UTF_8)))
        .isInstanceOf(MalformedEventException.class)
        .message()
        .startsWith(reason);
  }

  @Test
  void aBodyOfAnotherTypeIsNamedAsSuchEvenWhenItWouldNotBindAsTheExpectedClass() {
    byte[] json = EventCodec.write(Samples.llmCall());

    assertThatThrownBy(() -> EventCodec.read(json, StepFailed.class))
        .isInstanceOf(MalformedEventException.class)
        .hasMessage("expected a StepFailed event, got type atelier.llm.call.recorded.v1");
  }
}
