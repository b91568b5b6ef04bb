package dev.atelier.systemtest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** The files under deploy/observability, and every PromQL expression they hold. */
final class ObservabilityFiles {

  static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  static final ObjectMapper JSON = new ObjectMapper();

  /** One PromQL expression and where it comes from (for failure messages). */
  record Query(String source, String expr) {}

  private ObservabilityFiles() {}

  static Path dir() {
    return ServiceProcess.root().resolve("deploy/observability").toAbsolutePath().normalize();
  }

  static Path prometheusConfig() {
    return dir().resolve("prometheus/prometheus.yml");
  }

  static List<Path> ruleFiles() {
    return list(dir().resolve("prometheus/rules"), ".yml");
  }

  static List<Path> ruleTests() {
    return list(dir().resolve("prometheus/tests"), ".yml");
  }

  static List<Path> dashboards() {
    return list(dir().resolve("grafana/dashboards"), ".json");
  }

  /** Every alert and recording rule expression. */
  static List<Query> ruleQueries() {
    List<Query> out = new ArrayList<>();
    for (Path file : ruleFiles()) {
      for (JsonNode group : read(YAML, file).path("groups")) {
        for (JsonNode rule : group.path("rules")) {
          String name =
              rule.has("alert") ? rule.path("alert").asText() : rule.path("record").asText();
          out.add(new Query(file.getFileName() + " " + name, rule.path("expr").asText()));
        }
      }
    }
    return out;
  }

  /** Every panel target expression of every dashboard (rows' nested panels included). */
  static List<Query> dashboardQueries() {
    List<Query> out = new ArrayList<>();
    for (Path file : dashboards()) {
      collectPanels(file.getFileName().toString(), read(JSON, file).path("panels"), out);
    }
    return out;
  }

  private static void collectPanels(String source, JsonNode panels, List<Query> out) {
    for (JsonNode panel : panels) {
      for (JsonNode target : panel.path("targets")) {
        out.add(
            new Query(
                source
                    + " \""
                    + panel.path("title").asText()
                    + "\" "
                    + target.path("refId").asText(),
                target.path("expr").asText()));
      }
      collectPanels(source, panel.path("panels"), out);
    }
  }

  static JsonNode read(ObjectMapper mapper, Path file) {
    try {
      return mapper.readTree(file.toFile());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot parse " + file, e);
    }
  }

  private static List<Path> list(Path dir, String suffix) {
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(p -> p.toString().endsWith(suffix)).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
