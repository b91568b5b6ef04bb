package dev.atelier.systemtest;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * deploy/observability is valid for the tools that load it: promtool accepts the Prometheus config,
 * every rule file and the rule unit tests; Grafana's provisioning and dashboards fit together.
 * (That the queries name real metrics is ObservabilityMetricsIT's job.)
 */
class ObservabilityConfigTest {

  private static final Set<String> ALERTS_REQUIRED =
      Set.of(
          "LlmErrorRateHigh",
          "LlmLatencyP95High",
          "LlmTokensPerMinuteHigh",
          "QueueDepthHigh",
          "BudgetAlmostSpent",
          "BudgetExhausted",
          "LlmProviderCircuitOpen",
          "ServiceDown");

  @Test
  void promtoolAcceptsTheConfigAndEveryRuleFile() throws Exception {
    assertThat(ObservabilityFiles.ruleFiles()).isNotEmpty();
    Path config = ObservabilityFiles.prometheusConfig();
    Result checked = promtool("check", "config", config.toString());
    assertThat(checked.exit()).as("promtool check config:\n%s", checked.output()).isZero();
    // The config loads its rules by a relative glob: make sure it really found every file.
    assertThat(checked.output())
        .contains(ObservabilityFiles.ruleFiles().size() + " rule files found");
    for (Path rules : ObservabilityFiles.ruleFiles()) {
      Result r = promtool("check", "rules", rules.toString());
      assertThat(r.exit()).as("promtool check rules %s:\n%s", rules, r.output()).isZero();
    }
  }

  @Test
  void alertsFireOnTheirThresholdsInPromtoolUnitTests() throws Exception {
    assertThat(ObservabilityFiles.ruleTests()).isNotEmpty();
    for (Path test : ObservabilityFiles.ruleTests()) {
      Result r = promtool("test", "rules", test.toString());
      assertThat(r.exit()).as("promtool test rules %s:\n%s", test, r.output()).isZero();
    }
  }

  @Test
  void everyRequiredAlertExistsWithSeverityAndSummary() {
    List<String> alerts = new ArrayList<>();
    for (Path file : ObservabilityFiles.ruleFiles()) {
      for (JsonNode group : ObservabilityFiles.read(ObservabilityFiles.YAML, file).path("groups")) {
        for (JsonNode rule : group.path("rules")) {
          if (rule.has("alert")) {
            alerts.add(rule.path("alert").asText());
            assertThat(rule.path("labels").path("severity").asText())
                .as("severity of %s", rule.path("alert"))
                .isIn("info", "warning", "critical");
            assertThat(rule.path("annotations").path("summary").asText())
                .as("summary of %s", rule.path("alert"))
                .isNotBlank();
          }
        }
      }
    }
    assertThat(alerts).containsAll(ALERTS_REQUIRED).doesNotHaveDuplicates();
  }

  @Test
  void dashboardsUseTheProvisionedDatasourceAndHaveUniqueIdsAndQueries() {
    Path provisioning = ObservabilityFiles.dir().resolve("grafana/provisioning");
    Set<String> datasourceUids = new HashSet<>();
    for (JsonNode ds :
        ObservabilityFiles.read(
                ObservabilityFiles.YAML, provisioning.resolve("datasources/prometheus.yml"))
            .path("datasources")) {
      datasourceUids.add(ds.path("uid").asText());
    }
    JsonNode provider =
        ObservabilityFiles.read(
                ObservabilityFiles.YAML, provisioning.resolve("dashboards/atelier.yml"))
            .path("providers")
            .get(0);
    assertThat(provider.path("options").path("path").asText())
        .as("dashboards provider path (docker-compose mounts the dashboards there)")
        .isEqualTo("/var/lib/grafana/dashboards/atelier");

    List<Path> dashboards = ObservabilityFiles.dashboards();
    assertThat(dashboards)
        .extracting(p -> p.getFileName().toString())
        .contains(
            "atelier-overview.json",
            "atelier-llm-cost.json",
            "atelier-latency.json",
            "atelier-errors.json",
            "atelier-queues.json");
    Set<String> uids = new HashSet<>();
    for (Path file : dashboards) {
      JsonNode d = ObservabilityFiles.read(ObservabilityFiles.JSON, file);
      assertThat(uids.add(d.path("uid").asText())).as("unique uid in %s", file).isTrue();
      assertThat(d.path("title").asText()).as("title of %s", file).isNotBlank();
      Set<Integer> ids = new HashSet<>();
      for (JsonNode panel : d.path("panels")) {
        assertThat(ids.add(panel.path("id").asInt())).as("unique panel id in %s", file).isTrue();
        assertThat(panel.path("targets")).as("targets of %s", panel.path("title")).isNotEmpty();
        for (JsonNode node : List.of(panel, panel.path("targets").get(0))) {
          assertThat(node.path("datasource").path("uid").asText())
              .as("datasource of %s in %s", panel.path("title"), file)
              .isIn(datasourceUids);
        }
      }
    }
    assertThat(ObservabilityFiles.dashboardQueries())
        .allSatisfy(
            q ->
                assertThat(PromQl.selectors(q.expr()))
                    .as("metrics in %s", q.source())
                    .isNotEmpty());
  }

  @Test
  void queriesPinOnlyJobsThePrometheusConfigScrapes() {
    Set<String> jobs = new HashSet<>();
    ObservabilityFiles.read(ObservabilityFiles.YAML, ObservabilityFiles.prometheusConfig())
        .path("scrape_configs")
        .forEach(job -> jobs.add(job.path("job_name").asText()));
    assertThat(jobs)
        .containsExactlyInAnyOrder(
            "orchestrator", "agent-worker", "llm-gateway", "context", "tracking", "rabbitmq");
    List<ObservabilityFiles.Query> queries = new ArrayList<>(ObservabilityFiles.ruleQueries());
    queries.addAll(ObservabilityFiles.dashboardQueries());
    for (ObservabilityFiles.Query q : queries) {
      for (PromQl.Selector s : PromQl.selectors(q.expr())) {
        s.job().ifPresent(job -> assertThat(job).as("job in %s", q.source()).isIn(jobs));
      }
    }
  }

  record Result(int exit, String output) {}

  /** Runs promtool; its absence is a failure, not a skip: the checks would silently vanish. */
  static Result promtool(String... args) throws IOException, InterruptedException {
    Path promtool = onPath("promtool");
    assertThat(promtool)
        .as(
            "promtool is not on PATH. Install it from Debian's prometheus package:"
                + " apt-get install -y --no-install-recommends prometheus (.ci/run does this)")
        .isNotNull();
    List<String> command = new ArrayList<>(List.of(promtool.toString()));
    command.addAll(List.of(args));
    Path out = Files.createTempFile("promtool", ".log");
    try {
      Process p =
          new ProcessBuilder(command)
              .directory(ObservabilityFiles.dir().resolve("prometheus").toFile())
              .redirectErrorStream(true)
              .redirectOutput(out.toFile())
              .start();
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("promtool %s finished", command).isTrue();
      return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
    } finally {
      Files.deleteIfExists(out);
    }
  }

  private static Path onPath(String name) {
    String path = System.getenv().getOrDefault("PATH", "");
    try (Stream<String> dirs = Stream.of(path.split(File.pathSeparator))) {
      return dirs.map(d -> Path.of(d, name)).filter(Files::isExecutable).findFirst().orElse(null);
    }
  }
}
