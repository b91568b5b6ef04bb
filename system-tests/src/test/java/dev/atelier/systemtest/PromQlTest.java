package dev.atelier.systemtest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.atelier.systemtest.PromQl.Selector;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The scanner the metric-name checks rely on: a name it misses is a name nobody checks. */
class PromQlTest {

  @Test
  void findsNamesInsideFunctionsAggregationsAndArithmetic() {
    assertThat(
            PromQl.selectors(
                "histogram_quantile(0.95, sum by (le, gen_ai_request_model) (rate("
                    + "gen_ai_client_operation_duration_seconds_bucket{job=\"llm-gateway\"}[5m])))"
                    + " > 10"))
        .containsExactly(
            new Selector(
                "gen_ai_client_operation_duration_seconds_bucket", Optional.of("llm-gateway")));
    assertThat(
            PromQl.selectors(
                "sum(rate(a_total{x!=\"none\"}[5m])) by (job) / ignoring(x) sum(rate(b_total[1h]"
                    + " offset 5m)) * 60 and on (job) up{job=~\"a|b\"} == 0"))
        .extracting(Selector::name)
        .containsExactly("a_total", "b_total", "up");
  }

  @Test
  void ignoresLabelValuesStringsNumbersAndGrafanaVariables() {
    assertThat(
            PromQl.selectors(
                "sum by (queue) (increase(m_total{queue=~\".*\\\\.dead\", job=\"by\"}[$__range]))"
                    + " * 1e3 + ${factor} - 0.5 + $scale"))
        .containsExactly(new Selector("m_total", Optional.of("by")));
    assertThat(PromQl.selectors("max(x_seconds_max) bool > 1"))
        .extracting(Selector::name)
        .containsExactly("x_seconds_max");
  }

  @Test
  void keepsTheExactJobOnlyAndRejectsBrokenExpressions() {
    assertThat(PromQl.selectors("rate(c_total{job=~\"orchestrator|context\"}[5m])"))
        .containsExactly(new Selector("c_total", Optional.empty()));
    assertThatThrownBy(() -> PromQl.selectors("rate(c_total{job=\"x}[5m])"))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
