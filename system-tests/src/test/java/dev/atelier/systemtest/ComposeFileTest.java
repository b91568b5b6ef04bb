package dev.atelier.systemtest;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * docker-compose.yml without a Docker engine: it parses, its build contexts, Dockerfiles and
 * mounted files exist, and each service's environment matches what the service reads — no variable
 * it ignores, none missing that has no default or whose default only works outside a container.
 */
class ComposeFileTest {

  private static final Map<String, Integer> SERVICES =
      Map.of(
          "orchestrator-service", 8080,
          "agent-worker-service", 8081,
          "llm-gateway-service", 8082,
          "context-service", 8083,
          "tracking-service", 8084);

  /** ${NAME} or ${NAME:default} in application.properties. */
  private static final Pattern PLACEHOLDER =
      Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?::([^}]*))?}");

  private static final Path ROOT = ServiceProcess.root().toAbsolutePath().normalize();
  private static final JsonNode COMPOSE =
      ObservabilityFiles.read(ObservabilityFiles.YAML, ROOT.resolve("docker-compose.yml"));

  @Test
  void infrastructureIsThereWithTheAtelierVhostAndThePrometheusPlugin() throws IOException {
    JsonNode services = COMPOSE.path("services");
    assertThat(fieldNames(services))
        .containsAll(SERVICES.keySet())
        .contains("postgres", "rabbitmq", "jaeger", "prometheus", "grafana");
    JsonNode rabbit = services.path("rabbitmq");
    assertThat(rabbit.path("image").asText()).startsWith("rabbitmq:3-management");
    assertThat(rabbit.path("environment").path("RABBITMQ_DEFAULT_VHOST").asText())
        .isEqualTo("atelier");
    assertThat(Files.readString(mountedFile(rabbit, "/etc/rabbitmq/enabled_plugins")))
        .contains("rabbitmq_prometheus")
        .contains("rabbitmq_management");
    assertThat(
            Files.readString(
                mountedFile(services.path("postgres"), "/docker-entrypoint-initdb.d/")))
        .contains(
            "CREATE DATABASE atelier_orchestrator",
            "CREATE DATABASE atelier_gateway",
            "CREATE DATABASE atelier_context",
            "CREATE DATABASE atelier_tracking");
    assertThat(mountedFile(services.path("prometheus"), "/etc/prometheus"))
        .isEqualTo(ObservabilityFiles.dir().resolve("prometheus"));
    assertThat(mountedFile(services.path("grafana"), "/etc/grafana/provisioning"))
        .isEqualTo(ObservabilityFiles.dir().resolve("grafana/provisioning"));
    assertThat(mountedFile(services.path("grafana"), "/var/lib/grafana/dashboards/atelier"))
        .isEqualTo(ObservabilityFiles.dir().resolve("grafana/dashboards"));
    assertThat(services.path("jaeger").path("ports").toString()).contains("4317:4317", "4318:4318");
  }

  /**
   * {@code docker compose stop} (or down) gives the worker's running steps time to finish: its
   * drain covers a whole LLM call (the gateway client's timeout) and Compose waits longer than the
   * drain before it kills (its default is 10 s).
   */
  @Test
  void theWorkerFinishesItsRunningStepsBeforeComposeKillsIt() throws IOException {
    drainsLongerThanOneCall("agent-worker-service", "quarkus.langchain4j.openai.timeout");
  }

  /**
   * The gateway finishes the calls it serves before Compose kills it: its drain covers a whole
   * provider call (OPENAI_TIMEOUT).
   */
  @Test
  void theGatewayFinishesTheCallsItServesBeforeComposeKillsIt() throws IOException {
    drainsLongerThanOneCall("llm-gateway-service", "gateway.openai.timeout");
  }

  private static void drainsLongerThanOneCall(String service, String callTimeoutKey)
      throws IOException {
    JsonNode node = COMPOSE.path("services").path(service);
    String properties =
        Files.readString(
            ROOT.resolve(service).resolve("src/main/resources/application.properties"));
    String drain = node.path("environment").path("SHUTDOWN_TIMEOUT").asText(null);
    assertThat(drain).as("SHUTDOWN_TIMEOUT of %s", service).isNotNull();
    assertThat(properties).contains("quarkus.shutdown.timeout=${SHUTDOWN_TIMEOUT:");
    Matcher call =
        Pattern.compile("(?m)^" + Pattern.quote(callTimeoutKey) + "=\\$\\{[A-Z_]+:(\\d+)s}$")
            .matcher(properties);
    assertThat(call.find()).as("the call timeout of %s", service).isTrue();
    long drainSeconds = seconds(drain);
    assertThat(drainSeconds).as(service).isGreaterThan(Long.parseLong(call.group(1)));
    assertThat(seconds(node.path("stop_grace_period").asText("10s")))
        .as("stop_grace_period of %s", service)
        .isGreaterThanOrEqualTo(drainSeconds + 10);
  }

  private static long seconds(String composeDuration) {
    Matcher m = Pattern.compile("(\\d+)s").matcher(composeDuration);
    assertThat(m.matches()).as(composeDuration).isTrue();
    return Long.parseLong(m.group(1));
  }

  @Test
  void everyServiceIsBuiltFromItsModulesDockerfileAsANonRootUser() throws IOException {
    for (String service : SERVICES.keySet()) {
      JsonNode build = COMPOSE.path("services").path(service).path("build");
      Path context = ROOT.resolve(build.path("context").asText()).normalize();
      assertThat(context).as("build context of %s", service).isEqualTo(ROOT.resolve(service));
      assertThat(context.resolve("pom.xml")).isRegularFile();
      Path dockerfile = context.resolve(build.path("dockerfile").asText());
      assertThat(dockerfile).as("Dockerfile of %s", service).isRegularFile();
      String text = Files.readString(dockerfile);
      assertThat(text)
          .as("%s copies the fast-jar layout", dockerfile)
          .contains(
              "target/quarkus-app/lib/", "target/quarkus-app/app/", "target/quarkus-app/quarkus/")
          .contains("quarkus-run.jar")
          .contains("EXPOSE " + SERVICES.get(service));
      assertThat(text.lines().filter(l -> l.startsWith("USER ")).reduce((a, b) -> b))
          .as("last USER of %s", dockerfile)
          .hasValueSatisfying(u -> assertThat(u.trim()).isNotIn("USER root", "USER 0"));
    }
  }

  @Test
  void eachServiceGetsExactlyTheVariablesItReads() throws IOException {
    for (String service : SERVICES.keySet()) {
      Map<String, String> reads = variablesRead(service);
      JsonNode environment = COMPOSE.path("services").path(service).path("environment");
      assertThat(environment.isObject()).as("environment of %s is a map", service).isTrue();
      Set<String> set = new TreeSet<>(fieldNames(environment));

      assertThat(set)
          .as("variables set for %s that it never reads", service)
          .isSubsetOf(reads.keySet());
      Set<String> needed = new TreeSet<>();
      reads.forEach(
          (name, defaultValue) -> {
            if (defaultValue == null
                || defaultValue.contains("127.0.0.1")
                || defaultValue.contains("localhost")) {
              needed.add(name);
            }
          });
      assertThat(set)
          .as("%s: variables without a default, or whose default points at this host", service)
          .containsAll(needed);
      assertThat(environment.path("HTTP_PORT").asText())
          .as("HTTP_PORT of %s", service)
          .isEqualTo(SERVICES.get(service).toString());
    }
  }

  @Test
  void prometheusScrapesEveryServiceWhereComposeRunsIt() {
    JsonNode config =
        ObservabilityFiles.read(ObservabilityFiles.YAML, ObservabilityFiles.prometheusConfig());
    Set<String> targets = new HashSet<>();
    for (JsonNode job : config.path("scrape_configs")) {
      for (JsonNode sc : job.path("static_configs")) {
        sc.path("targets").forEach(t -> targets.add(t.asText()));
      }
      if (!job.path("job_name").asText().equals("rabbitmq")) {
        assertThat(job.path("metrics_path").asText()).isEqualTo("/q/metrics");
      }
    }
    SERVICES.forEach((service, port) -> assertThat(targets).contains(service + ":" + port));
    assertThat(targets).contains("rabbitmq:15692");
  }

  /**
   * Environment variables a service reads, with their default (null when none): the placeholders of
   * its application.properties, plus the RABBITMQ_* names SmallRye maps onto service-kit's {@code
   * rabbitmq.*} config mapping when the service uses RabbitMQ.
   */
  private static Map<String, String> variablesRead(String service) throws IOException {
    String properties =
        Files.readString(
            ROOT.resolve(service).resolve("src/main/resources/application.properties"));
    Map<String, String> reads = new HashMap<>();
    // The kit's defaults first: a placeholder in application.properties overrides them.
    if (!properties.contains("dev.atelier.kit.amqp.**")) {
      reads.putAll(rabbitConfigVariables());
    }
    for (String line : properties.lines().toList()) {
      String trimmed = line.trim();
      if (trimmed.startsWith("#") || trimmed.startsWith("%")) {
        continue; // comments and profile-only (%test, %dev) values do not run in a container
      }
      Matcher m = PLACEHOLDER.matcher(trimmed);
      while (m.find()) {
        reads.put(m.group(1), m.group(2));
      }
    }
    return reads;
  }

  /** From service-kit's RabbitConfig source: {@code @WithDefault("x") String fooBar();}. */
  private static Map<String, String> rabbitConfigVariables() throws IOException {
    String source =
        Files.readString(
            ROOT.resolve("service-kit/src/main/java/dev/atelier/kit/amqp/RabbitConfig.java"));
    Matcher m =
        Pattern.compile("(?:@WithDefault\\(\"([^\"]*)\"\\)\\s+)?\\w+(?:<[^>]*>)?\\s+(\\w+)\\(\\);")
            .matcher(source);
    Map<String, String> out = new HashMap<>();
    while (m.find()) {
      String env = "RABBITMQ_" + m.group(2).replaceAll("([a-z])([A-Z])", "$1_$2").toUpperCase();
      out.put(env, m.group(1));
    }
    assertThat(out)
        .as("properties of RabbitConfig")
        .containsKeys("RABBITMQ_HOST", "RABBITMQ_VIRTUAL_HOST");
    return out;
  }

  /** The host file mounted at (or, for a directory target ending in /, into) {@code target}. */
  private static Path mountedFile(JsonNode service, String target) {
    for (JsonNode volume : service.path("volumes")) {
      String[] parts = volume.asText().split(":");
      if (parts.length >= 2 && parts[0].startsWith(".") && parts[1].startsWith(target)) {
        Path host = ROOT.resolve(parts[0]).normalize();
        assertThat(host).as("mounted %s", parts[0]).exists();
        return host;
      }
    }
    throw new AssertionError("nothing mounted at " + target + " in " + service);
  }

  private static List<String> fieldNames(JsonNode node) {
    List<String> names = new ArrayList<>();
    node.fieldNames().forEachRemaining(names::add);
    return names;
  }
}
