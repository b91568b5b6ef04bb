package dev.atelier.systemtest;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import dev.atelier.systemtest.ObservabilityFiles.Query;
import dev.atelier.systemtest.PromQl.Selector;
import io.restassured.http.ContentType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every alert expression and every dashboard query names metrics the five services really export:
 * the suite runs one workflow (so the LLM metrics exist), then each service's /q/metrics is
 * scraped. Prometheus job names are the suite's service names (deploy/observability/prometheus).
 */
class ObservabilityMetricsIT {

  private static final Set<String> SERVICES =
      Set.of("orchestrator", "agent-worker", "llm-gateway", "context", "tracking");

  /**
   * From RabbitMQ's Prometheus plugin, which the local broker does not run: checked by name only.
   */
  private static final Set<String> RABBITMQ =
      Set.of(
          "rabbitmq_queue_messages_ready",
          "rabbitmq_queue_messages_unacked",
          "rabbitmq_queue_messages",
          "rabbitmq_queue_consumers",
          "rabbitmq_connections",
          "rabbitmq_channel_messages_published_total",
          "rabbitmq_channel_messages_delivered_ack_total");

  /** Made by Prometheus itself for every target. */
  private static final Set<String> PROMETHEUS = Set.of("up");

  /**
   * Registered on first use (a failure, an unpriced model), so a clean workflow does not show them:
   * their Micrometer name must be in the service's source instead.
   */
  private static final Map<String, List<String>> REGISTERED_ON_FIRST_USE =
      Map.of(
          "atelier_llm_cost_unknown_total",
          List.of("llm-gateway-service", "\"atelier.llm.cost.unknown\""),
          // one series per global or team budget
          "atelier_llm_budget_remaining_usd",
          List.of("llm-gateway-service", "\"atelier.llm.budget.remaining\""),
          "atelier_llm_budget_limit_usd",
          List.of("llm-gateway-service", "\"atelier.llm.budget.limit\""),
          // one series per deployment of an alias, once it was called
          "atelier_llm_provider_circuit_open",
          List.of("llm-gateway-service", "\"atelier.llm.provider.circuit.open\""));

  private static AtelierSuite suite;

  @BeforeAll
  static void startSuiteAndRunAWorkflow() throws Exception {
    suite = AtelierSuite.start();
    String request =
        Files.readString(ServiceProcess.root().resolve("deploy/examples/order-tracking.json"));
    String location =
        given()
            .baseUri(suite.url("orchestrator"))
            .contentType(ContentType.JSON)
            .body(request)
            .post("/api/v1/workflows")
            .then()
            .statusCode(202)
            .extract()
            .header("Location");
    String path = location.substring(location.indexOf("/api/v1/workflows/"));
    String status =
        Awaitility.await("workflow " + location + " finished")
            .atMost(Duration.ofSeconds(180))
            .pollInterval(Duration.ofMillis(500))
            .until(
                () ->
                    given()
                        .baseUri(suite.url("orchestrator"))
                        .get(path)
                        .then()
                        .statusCode(200)
                        .extract()
                        .path("status"),
                s -> Set.of("completed", "failed", "cancelled", "budget_exceeded").contains(s));
    assertThat(status).as("workflow status%s", suite.logs()).isEqualTo("completed");
  }

  @AfterAll
  static void stopSuite() {
    if (suite != null) {
      suite.close();
    }
  }

  @Test
  void everyAlertAndPanelQueryNamesAMetricTheServicesExport() throws IOException {
    Map<String, Set<String>> exported = new HashMap<>();
    for (String service : SERVICES) {
      exported.put(service, scrape(service));
    }
    // The scrape happened after LLM calls: their histograms are there, buckets included.
    assertThat(exported.get("llm-gateway"))
        .contains(
            "gen_ai_client_operation_duration_seconds_bucket",
            "gen_ai_client_token_usage_bucket",
            "atelier_llm_cost_usd_total");

    List<Query> queries = new ArrayList<>(ObservabilityFiles.ruleQueries());
    queries.addAll(ObservabilityFiles.dashboardQueries());
    assertThat(queries).hasSizeGreaterThan(20);

    List<String> problems = new ArrayList<>();
    Set<String> used = new HashSet<>();
    for (Query q : queries) {
      for (Selector s : PromQl.selectors(q.expr())) {
        used.add(s.name());
        String problem = check(s, exported);
        if (problem != null) {
          problems.add(q.source() + ": " + problem);
        }
      }
    }
    assertThat(problems).as("queries naming metrics nobody exports").isEmpty();
    // The exemption lists stay honest: each entry is still used somewhere.
    assertThat(used).containsAll(RABBITMQ).containsAll(REGISTERED_ON_FIRST_USE.keySet());
  }

  private static String check(Selector s, Map<String, Set<String>> exported) throws IOException {
    String name = s.name();
    if (name.startsWith("rabbitmq_")) {
      return RABBITMQ.contains(name)
          ? null
          : name + " is not in the list of RabbitMQ plugin metrics";
    }
    if (PROMETHEUS.contains(name)) {
      return null;
    }
    if (REGISTERED_ON_FIRST_USE.containsKey(name)) {
      List<String> where = REGISTERED_ON_FIRST_USE.get(name);
      return sourceContains(where.get(0), where.get(1))
          ? null
          : name + ": " + where.get(1) + " not found in " + where.get(0) + " sources";
    }
    if (s.job().isPresent()) {
      String job = s.job().get();
      if (!exported.containsKey(job)) {
        return name + ": job \"" + job + "\" is not one of " + SERVICES;
      }
      return exported.get(job).contains(name) ? null : name + " is not exported by " + job;
    }
    return exported.values().stream().anyMatch(names -> names.contains(name))
        ? null
        : name + " is exported by no service";
  }

  /** Metric names in a service's Prometheus exposition (name{labels} value ...). */
  private static Set<String> scrape(String service) {
    String body =
        given()
            .baseUri(suite.url(service))
            .get("/q/metrics")
            .then()
            .statusCode(200)
            .extract()
            .asString();
    return body.lines()
        .filter(l -> !l.isBlank() && !l.startsWith("#"))
        .map(l -> l.split("[{ ]", 2)[0])
        .collect(Collectors.toSet());
  }

  private static boolean sourceContains(String module, String literal) throws IOException {
    Path src = ServiceProcess.root().resolve(module).resolve("src/main/java");
    try (Stream<Path> files = Files.walk(src)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
        if (Files.readString(f).contains(literal)) {
          return true;
        }
      }
    }
    return false;
  }
}
