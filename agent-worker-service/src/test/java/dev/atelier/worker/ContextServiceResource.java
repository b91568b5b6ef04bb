package dev.atelier.worker;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Runs the real, packaged context-service as a child process (it is ours, so it is not mocked),
 * against its own database {@code atelier_context_workertest}. The packaged application is copied
 * first, so a rebuild of context-service during the test run cannot pull files from under it.
 */
public class ContextServiceResource implements QuarkusTestResourceLifecycleManager {

  private static final Path PACKAGED = Path.of("..", "context-service", "target", "quarkus-app");
  private static final Path COPY = Path.of("target", "context-service-app");
  private static final Duration STARTUP = Duration.ofSeconds(120);

  private Process process;

  @Override
  public Map<String, String> start() {
    if (!Files.exists(PACKAGED.resolve("quarkus-run.jar"))) {
      throw new IllegalStateException(
          "context-service is not packaged; run ./mvnw -o -pl context-service package -DskipTests");
    }
    try {
      copy(PACKAGED, COPY);
      int port = freePort();
      Path log = Path.of("target", "context-service.log");
      ProcessBuilder builder =
          new ProcessBuilder(
                  Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                  "-Xmx256m",
                  "-jar",
                  COPY.resolve("quarkus-run.jar").toString())
              .redirectErrorStream(true)
              .redirectOutput(log.toFile());
      builder.environment().put("HTTP_PORT", String.valueOf(port));
      builder.environment().put("QUARKUS_HTTP_HOST", "127.0.0.1");
      builder
          .environment()
          .put("DB_URL", "jdbc:postgresql://127.0.0.1:5432/atelier_context_workertest");
      builder.environment().put("QUARKUS_OTEL_SDK_DISABLED", "true");
      process = builder.start();
      String url = "http://127.0.0.1:" + port;
      awaitReady(url, log);
      return Map.of(
          "quarkus.rest-client.context.url", url, "quarkus.rest-client.context-health.url", url);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void stop() {
    if (process == null) {
      return;
    }
    process.destroy();
    try {
      if (!process.waitFor(20, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
  }

  private void awaitReady(String url, Path log) throws InterruptedException {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    HttpRequest ready =
        HttpRequest.newBuilder(URI.create(url + "/q/health/ready"))
            .timeout(Duration.ofSeconds(2))
            .build();
    long deadline = System.nanoTime() + STARTUP.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException(
            "context-service exited with " + process.exitValue() + "; see " + log);
      }
      try {
        if (http.send(ready, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
          return;
        }
      } catch (IOException notYet) {
        // still starting
      }
      TimeUnit.MILLISECONDS.sleep(250);
    }
    stop();
    throw new IllegalStateException("context-service not ready within " + STARTUP + "; see " + log);
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  private static void copy(Path from, Path to) throws IOException {
    if (Files.exists(to)) {
      try (Stream<Path> old = Files.walk(to)) {
        for (Path p : old.sorted(Comparator.reverseOrder()).toList()) {
          Files.delete(p);
        }
      }
    }
    try (Stream<Path> files = Files.walk(from)) {
      for (Path source : files.toList()) {
        Path target = to.resolve(from.relativize(source).toString());
        if (Files.isDirectory(source)) {
          Files.createDirectories(target);
        } else {
          Files.copy(source, target, StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
  }
}
