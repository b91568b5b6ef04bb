package dev.atelier.orchestrator.messaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.atelier.contracts.StepRequested;
import dev.atelier.contracts.WorkflowStatusChanged;
import dev.atelier.kit.amqp.EncodedEvent;
import dev.atelier.orchestrator.config.OrchestratorConfig;
import dev.atelier.orchestrator.messaging.OutboxRelay.HandedOff;
import dev.atelier.orchestrator.repository.OutboxRepository.Written;
import io.opentelemetry.context.Context;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The relay's hand-off queue, without its thread: what it keeps, forgets and refuses. */
class OutboxRelayQueueTest {

  private static OrchestratorConfig config(Duration grace, int capacity) {
    Map<String, Object> outbox =
        Map.of(
            "handoffGrace",
            grace,
            "handoffCapacity",
            capacity,
            "batchSize",
            100,
            "pollInterval",
            Duration.ofMillis(500));
    OrchestratorConfig.Outbox outboxConfig =
        (OrchestratorConfig.Outbox)
            Proxy.newProxyInstance(
                OrchestratorConfig.class.getClassLoader(),
                new Class<?>[] {OrchestratorConfig.Outbox.class},
                (p, method, args) -> outbox.get(method.getName()));
    return (OrchestratorConfig)
        Proxy.newProxyInstance(
            OrchestratorConfig.class.getClassLoader(),
            new Class<?>[] {OrchestratorConfig.class},
            (p, method, args) -> method.getName().equals("outbox") ? outboxConfig : null);
  }

  private static long nextId = 1;

  private static HandedOff row(UUID workflowId, String type) {
    EncodedEvent encoded =
        new EncodedEvent(UUID.randomUUID(), workflowId, type, Instant.now(), new byte[] {'{', '}'});
    return new HandedOff(
        new Written(nextId++, "atelier.steps", "step.developer", encoded), Context.root());
  }

  @Test
  void forgettingAWorkflowsStepRequestsLeavesItsOtherRowsAndOtherWorkflows() {
    OutboxRelay relay = new OutboxRelay(null, config(Duration.ofSeconds(5), 100));
    UUID cancelled = UUID.randomUUID();
    UUID other = UUID.randomUUID();
    relay.handOff(
        List.of(
            row(cancelled, StepRequested.TYPE),
            row(cancelled, WorkflowStatusChanged.TYPE),
            row(other, StepRequested.TYPE),
            row(cancelled, StepRequested.TYPE)));
    assertThat(relay.handedOffWaiting()).isEqualTo(4);

    relay.forget(cancelled, StepRequested.TYPE);

    assertThat(relay.handedOffWaiting()).isEqualTo(2);
    relay.forget(cancelled, StepRequested.TYPE);
    assertThat(relay.handedOffWaiting()).isEqualTo(2);
    relay.forget(other, StepRequested.TYPE);
    assertThat(relay.handedOffWaiting()).isOne();
  }

  @Test
  void rowsBeyondTheCapacityAreLeftToThePoll() {
    OutboxRelay relay = new OutboxRelay(null, config(Duration.ofSeconds(5), 2));
    UUID id = UUID.randomUUID();
    relay.handOff(List.of(row(id, StepRequested.TYPE), row(id, StepRequested.TYPE)));
    relay.handOff(List.of(row(id, StepRequested.TYPE)));
    assertThat(relay.handedOffWaiting()).isEqualTo(2);
  }

  @Test
  void aNegativeGraceOrNoCapacityIsRefusedAtStartup() {
    assertThatThrownBy(() -> new OutboxRelay(null, config(Duration.ofSeconds(-1), 10)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("orchestrator.outbox.handoff-grace");
    assertThatThrownBy(() -> new OutboxRelay(null, config(Duration.ofSeconds(5), 0)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("orchestrator.outbox.handoff-capacity");
  }
}
