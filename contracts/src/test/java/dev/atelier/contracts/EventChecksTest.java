package dev.atelier.contracts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.RecordComponent;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class EventChecksTest {

  @Test
  void acceptsAWellFormedCallRecord() {
    assertThatCode(() -> EventChecks.check(call("step-1", 120, new BigDecimal("0.000123"))))
        .doesNotThrowAnyException();
  }

  @Test
  void refusesCallRecordsNoConsumerCanStoreOrCount() {
    assertThatThrownBy(() -> EventChecks.check(call("step-1", -5, BigDecimal.ONE)))
        .isInstanceOf(MalformedEventException.class)
        .hasMessageContaining("negative");
    assertThatThrownBy(() -> EventChecks.check(call("step\u00001", 5, BigDecimal.ONE)))
        .isInstanceOf(MalformedEventException.class)
        .hasMessageContaining("NUL");
    assertThatThrownBy(() -> EventChecks.check(call("step-1", 5, new BigDecimal("1E+20"))))
        .isInstanceOf(MalformedEventException.class)
        .hasMessageContaining("out of range");
  }

  @Test
  void refusesTextLongerThanTheLedgersIndexesHoldCountedInUtf8Bytes() {
    String emoji = "\uD83D\uDE00"; // 4 bytes in UTF-8, 2 chars
    assertThatCode(() -> EventChecks.check(call("s".repeat(1_024), 5, BigDecimal.ONE)))
        .doesNotThrowAnyException();
    assertThatThrownBy(() -> EventChecks.check(call("s".repeat(1_025), 5, BigDecimal.ONE)))
        .isInstanceOf(MalformedEventException.class)
        .hasMessage("stepId is longer than 1024 bytes in UTF-8");
    // 257 characters, 1,028 bytes.
    assertThatThrownBy(() -> EventChecks.check(call(emoji.repeat(257), 5, BigDecimal.ONE)))
        .isInstanceOf(MalformedEventException.class)
        .hasMessage("stepId is longer than 1024 bytes in UTF-8");
    assertThat(EventChecks.utf8Length("a\u00e9\u20ac" + emoji)).isEqualTo(1 + 2 + 3 + 4);
    assertThat(EventChecks.utf8Length(null)).isZero();
  }

  @Test
  void refusesARecordWhoseRollupKeyOrFallbackPathIsTooLong() {
    LlmCallRecorded ok = call("step-1", 5, BigDecimal.ONE);
    // Each within 1,024 bytes; team, agent and model together 2,700 (the rollup key's index).
    LlmCallRecorded wide = labelled(ok, "a".repeat(900), "t".repeat(900), "m".repeat(900), null);
    assertThatThrownBy(() -> EventChecks.check(wide))
        .isInstanceOf(MalformedEventException.class)
        .hasMessage("team, agent, provider and model are longer than 2048 bytes in UTF-8 together");
    LlmCallRecorded longPath =
        labelled(ok, "architect", "default", "gpt-4o-mini", "openai/gpt-4o-mini>".repeat(120));
    assertThatThrownBy(() -> EventChecks.check(longPath))
        .isInstanceOf(MalformedEventException.class)
        .hasMessage("fallbackPath is longer than 2048 bytes in UTF-8");
    assertThatCode(
            () ->
                EventChecks.check(
                    labelled(
                        ok,
                        "a".repeat(600),
                        "t".repeat(600),
                        "m".repeat(600),
                        "openai/gpt-4o-mini>".repeat(100))))
        .doesNotThrowAnyException();
  }

  @Test
  void refusesACallRecordWithoutItsIdOrTime() {
    LlmCallRecorded ok = call("step-1", 5, BigDecimal.ONE);
    LlmCallRecorded noId = withIdAndTime(ok, null, ok.occurredAt());
    LlmCallRecorded noTime = withIdAndTime(ok, ok.eventId(), null);

    assertThatThrownBy(() -> EventChecks.check(noId))
        .isInstanceOf(MalformedEventException.class)
        .hasMessage("eventId is missing");
    assertThatThrownBy(() -> EventChecks.check(noTime))
        .isInstanceOf(MalformedEventException.class)
        .hasMessage("occurredAt is missing");
  }

  @Test
  void refusesAStatusEventFromBeyondTheTimesTheDatabaseHolds() {
    WorkflowStatusChanged farFuture = statusChange(Instant.parse("+300000-01-01T00:00:00Z"), null);

    assertThatThrownBy(() -> EventChecks.check(farFuture))
        .isInstanceOf(MalformedEventException.class)
        .hasMessageStartingWith("occurredAt must lie between");
  }

  @Test
  void refusesAStatusEventWithNulInItsText() {
    WorkflowStatusChanged event = statusChange(Instant.now(), "provider said \u0000");

    assertThatThrownBy(() -> EventChecks.check(event))
        .isInstanceOf(MalformedEventException.class)
        .hasMessageContaining("NUL");
  }

  private static WorkflowStatusChanged statusChange(Instant at, String reason) {
    return new WorkflowStatusChanged(
        UUID.randomUUID(),
        WorkflowStatusChanged.TYPE,
        at,
        UUID.randomUUID(),
        "software-delivery",
        1,
        "title",
        "team",
        "failed",
        "running",
        reason);
  }

  private static LlmCallRecorded call(String stepId, long inputTokens, BigDecimal cost) {
    return new LlmCallRecorded(
        UUID.randomUUID(),
        LlmCallRecorded.TYPE,
        Instant.now(),
        UUID.randomUUID(),
        stepId,
        "architect",
        null,
        "default",
        "chat",
        "simulated",
        "gpt-4o-mini",
        "gpt-4o-mini",
        LlmCallRecorded.STATUS_OK,
        null,
        false,
        inputTokens,
        0,
        10,
        0,
        LlmCallRecorded.USAGE_PROVIDER,
        cost,
        "test-1",
        Instant.now(),
        42,
        null,
        true,
        null,
        null,
        null);
  }

  private static LlmCallRecorded labelled(
      LlmCallRecorded r, String agent, String team, String model, String fallbackPath) {
    return with(
        r,
        "agent",
        agent,
        "team",
        team,
        "requestModel",
        model,
        "responseModel",
        model,
        "fallbackPath",
        fallbackPath);
  }

  private static LlmCallRecorded withIdAndTime(LlmCallRecorded r, UUID eventId, Instant at) {
    return with(r, "eventId", eventId, "occurredAt", at);
  }

  /** {@code r} with the components named in {@code namesAndValues} (name, value, ...) replaced. */
  private static LlmCallRecorded with(LlmCallRecorded r, Object... namesAndValues) {
    Map<String, Object> changes = new HashMap<>();
    for (int i = 0; i < namesAndValues.length; i += 2) {
      changes.put((String) namesAndValues[i], namesAndValues[i + 1]);
    }
    RecordComponent[] components = LlmCallRecorded.class.getRecordComponents();
    Object[] values = new Object[components.length];
    Class<?>[] types = new Class<?>[components.length];
    try {
      for (int i = 0; i < components.length; i++) {
        String name = components[i].getName();
        types[i] = components[i].getType();
        values[i] =
            changes.containsKey(name)
                ? changes.remove(name)
                : components[i].getAccessor().invoke(r);
      }
      assertThat(changes).as("components that LlmCallRecorded does not have").isEmpty();
      return LlmCallRecorded.class.getDeclaredConstructor(types).newInstance(values);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException(e);
    }
  }
}
