package dev.atelier.contracts;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.time.Instant;
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
  void refusesAStatusEventWithNulInItsText() {
    WorkflowStatusChanged event =
        new WorkflowStatusChanged(
            UUID.randomUUID(),
            WorkflowStatusChanged.TYPE,
            Instant.now(),
            UUID.randomUUID(),
            "software-delivery",
            1,
            "title",
            "team",
            "failed",
            "running",
            "provider said \u0000");

    assertThatThrownBy(() -> EventChecks.check(event))
        .isInstanceOf(MalformedEventException.class)
        .hasMessageContaining("NUL");
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

  private static LlmCallRecorded withIdAndTime(LlmCallRecorded r, UUID eventId, Instant at) {
    return new LlmCallRecorded(
        eventId,
        r.type(),
        at,
        r.workflowId(),
        r.stepId(),
        r.agent(),
        r.conversationId(),
        r.team(),
        r.operation(),
        r.provider(),
        r.requestModel(),
        r.responseModel(),
        r.status(),
        r.errorCode(),
        r.streamed(),
        r.inputTokens(),
        r.cachedInputTokens(),
        r.outputTokens(),
        r.reasoningTokens(),
        r.usageSource(),
        r.costUsd(),
        r.priceVersion(),
        r.startedAt(),
        r.latencyMs(),
        r.timeToFirstTokenMs(),
        r.simulated(),
        r.traceId(),
        r.spanId(),
        r.fallbackPath());
  }
}
