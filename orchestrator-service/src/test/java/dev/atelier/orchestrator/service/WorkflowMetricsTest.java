package dev.atelier.orchestrator.service;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

class WorkflowMetricsTest {

  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final WorkflowMetrics metrics = new WorkflowMetrics(registry);

  private double retried(String error) {
    Counter c = registry.find("atelier.steps.retried").tag("error", error).counter();
    return c == null ? 0 : c.count();
  }

  @Test
  void retryErrorTagsAreBounded() {
    metrics.stepRetried("developer", "provider_unavailable");
    metrics.stepRetried("developer", null);
    // Free text from a worker (here, a message passed as a code) is not a series of its own.
    metrics.stepRetried("developer", "The provider said: \"try later\" (HTTP 503)");
    for (int i = 0; i < 2 * WorkflowMetrics.MAX_ERROR_TAGS; i++) {
      metrics.stepRetried("developer", "code_" + i);
    }
    metrics.stepRetried("developer", "provider_unavailable");

    assertThat(retried("provider_unavailable")).isEqualTo(2);
    assertThat(retried("unknown")).isEqualTo(1);
    assertThat(registry.find("atelier.steps.retried").counters())
        .hasSize(WorkflowMetrics.MAX_ERROR_TAGS + 2); // + unknown, other
    // 1 free text + the codes past the cap (one cap slot went to provider_unavailable).
    assertThat(retried("other")).isEqualTo(1 + WorkflowMetrics.MAX_ERROR_TAGS + 1);
  }
}
