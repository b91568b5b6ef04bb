package dev.atelier.gateway.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.atelier.gateway.pricing.PricedCost;
import dev.atelier.gateway.provider.Completion;
import dev.atelier.gateway.provider.EmbeddingCall;
import dev.atelier.gateway.provider.Provider;
import dev.atelier.gateway.provider.ProviderCall;
import dev.atelier.gateway.provider.Route;
import dev.atelier.gateway.provider.StreamEvent;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.context.Context;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The GenAI metrics' label values come from callers; the registry must stay bounded anyway. */
class GenAiTelemetryTest {

  private static final Provider PROVIDER =
      new Provider() {
        @Override
        public String name() {
          return "openai";
        }

        @Override
        public boolean simulated() {
          return false;
        }

        @Override
        public Uni<Completion> complete(ProviderCall call) {
          throw new UnsupportedOperationException();
        }

        @Override
        public Multi<StreamEvent> stream(ProviderCall call) {
          throw new UnsupportedOperationException();
        }

        @Override
        public Uni<Completion> embed(EmbeddingCall call) {
          throw new UnsupportedOperationException();
        }
      };

  @Test
  void distinctAgentsAndModelsPastTheBoundShareOneOtherMeterAndNothingIsLost() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    OpenTelemetry otel = OpenTelemetry.noop();
    GenAiTelemetry telemetry = new GenAiTelemetry(otel, registry);
    ObjectMapper mapper = new ObjectMapper();
    int calls = 2 * GenAiTelemetry.MAX_METERS;
    for (int i = 0; i < calls; i++) {
      // Every call a new agent (X-Atelier-Agent) and a new model name: two new label values.
      ChatRequest request =
          ChatRequest.parse(
              ChatRequest.parser(mapper),
              ("{\"model\":\"model-"
                      + i
                      + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")
                  .getBytes(StandardCharsets.UTF_8));
      ChatCall call =
          new ChatCall(
              request,
              "team-a",
              new Attribution(null, null, "agent-" + i, null),
              new Route(PROVIDER, request.model()));
      call.traced(otel.getTracer("test").spanBuilder("chat").startSpan(), Context.root());
      telemetry.finish(
          call,
          Usage.estimated(10, 5),
          PricedCost.UNKNOWN,
          null,
          null,
          "stop",
          null,
          Duration.ofMillis(5));
    }

    // Unbounded, each call would add two token meters and a duration meter: 3 x calls.
    int meters =
        registry.find("gen_ai.client.token.usage").summaries().size()
            + registry.find("gen_ai.client.operation.duration").timers().size()
            + registry.find("atelier.llm.cost.unknown").counters().size();
    assertThat(meters).isBetween(GenAiTelemetry.MAX_METERS, GenAiTelemetry.MAX_METERS + 8);
    DistributionSummary other =
        registry
            .find("gen_ai.client.token.usage")
            .tag("gen_ai.agent.name", GenAiTelemetry.OTHER)
            .tag("gen_ai.token.type", "input")
            .summary();
    assertThat(other).isNotNull();
    assertThat(other.count()).isPositive();
    // Every call is still counted, on its own meter or on the overflow one.
    long input =
        registry
            .find("gen_ai.client.token.usage")
            .tag("gen_ai.token.type", "input")
            .summaries()
            .stream()
            .mapToLong(DistributionSummary::count)
            .sum();
    assertThat(input).isEqualTo(calls);
  }
}
