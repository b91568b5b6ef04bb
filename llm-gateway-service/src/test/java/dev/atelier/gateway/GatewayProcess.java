package dev.atelier.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * One gateway process started from the packaged application ({@code target/quarkus-app}, so only
 * after {@code package}: failsafe tests) in the test profile, on a free port, with its output in
 * {@code target/<log>.log}. For tests that need several replicas or a real kill.
 */
record GatewayProcess(String name, Process process, URI base, Path log) {

  static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  /**
   * Starts a gateway with the test profile (test database and vhost, no OTLP export, no real
   * provider key) and the given extra {@code -D} settings; returns before it is ready.
   */
  static GatewayProcess start(String name, String logName, List<String> settings)
      throws IOException {
    // -Dgateway.it.app=<dir> runs the test against another build (e.g. to see it fail on an older
    // one); by default the one this build packaged.
    Path jar =
        Path.of(System.getProperty("gateway.it.app", "target/quarkus-app"), "quarkus-run.jar")
            .toAbsolutePath();
    assertThat(jar).as("the packaged gateway (mvn package)").exists();
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Path log = Path.of("target", logName + ".log").toAbsolutePath();
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx256m");
    command.add("-Dquarkus.profile=test");
    command.add("-Dquarkus.http.port=" + port);
    command.addAll(settings);
    command.add("-jar");
    command.add(jar.toString());
    ProcessBuilder pb = new ProcessBuilder(command);
    pb.environment().remove("OPENAI_API_KEY");
    pb.environment().remove("ATELIER_TEST_PROVIDER_KEY");
    pb.redirectErrorStream(true);
    pb.redirectOutput(log.toFile());
    return new GatewayProcess(name, pb.start(), URI.create("http://127.0.0.1:" + port), log);
  }

  /** Waits until {@code /q/health/ready} answers 200; fails with the log's tail if it exits. */
  GatewayProcess awaitReady() {
    await("gateway " + name + " ready")
        .atMost(Duration.ofSeconds(180))
        .pollInterval(Duration.ofMillis(500))
        .until(this::ready);
    return this;
  }

  boolean ready() {
    if (!process.isAlive()) {
      throw new AssertionError("gateway " + name + " exited:\n" + tail());
    }
    try {
      return HTTP.send(
                  HttpRequest.newBuilder(base.resolve("/q/health/ready")).build(),
                  HttpResponse.BodyHandlers.discarding())
              .statusCode()
          == 200;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** The first sample of a Prometheus metric from {@code /q/metrics}. */
  double metric(String metric) throws Exception {
    String body =
        HTTP.send(
                HttpRequest.newBuilder(base.resolve("/q/metrics")).build(),
                HttpResponse.BodyHandlers.ofString())
            .body();
    return body.lines()
        .filter(l -> l.startsWith(metric + " ") || l.startsWith(metric + "{"))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no metric " + metric));
  }

  String tail() {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }
}
