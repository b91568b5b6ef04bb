package dev.atelier.worker;

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
 * Another Atelier service, real and packaged, run as a child process on a free port (ours, so it is
 * not mocked). The packaged application is copied first, so a rebuild of that module during the
 * test run cannot pull files from under it. Its output goes to {@code target/<module>.log}.
 */
final class PackagedService {

  private static final Duration STARTUP = Duration.ofSeconds(120);

  private final String module;
  private final Process process;
  private final String url;

  private PackagedService(String module, Process process, String url) {
    this.module = module;
    this.process = process;
    this.url = url;
  }

  /** Starts {@code module}'s packaged application with {@code env} and waits until it is ready. */
  static PackagedService start(String module, Map<String, String> env) {
    Path packaged = Path.of("..", module, "target", "quarkus-app");
    if (!Files.exists(packaged.resolve("quarkus-run.jar"))) {
      throw new IllegalStateException(
          module + " is not packaged; run ./mvnw -o -pl " + module + " package -DskipTests");
    }
    try {
      Path copy = Path.of("target", module + "-app");
      copy(packaged, copy);
      int port = freePort();
      Path log = Path.of("target", module + ".log");
      ProcessBuilder builder =
          new ProcessBuilder(
                  Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                  "-Xmx256m",
                  "-jar",
                  copy.resolve("quarkus-run.jar").toString())
              .redirectErrorStream(true)
              .redirectOutput(log.toFile());
      builder.environment().putAll(env);
      builder.environment().put("HTTP_PORT", String.valueOf(port));
      builder.environment().put("QUARKUS_HTTP_HOST", "127.0.0.1");
      builder.environment().putIfAbsent("QUARKUS_OTEL_SDK_DISABLED", "true");
      PackagedService service =
          new PackagedService(module, builder.start(), "http://127.0.0.1:" + port);
      service.awaitReady(log);
      return service;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  String url() {
    return url;
  }

  void stop() {
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

  private void awaitReady(Path log) throws InterruptedException {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    HttpRequest ready =
        HttpRequest.newBuilder(URI.create(url + "/q/health/ready"))
            .timeout(Duration.ofSeconds(2))
            .build();
    long deadline = System.nanoTime() + STARTUP.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException(
            module + " exited with " + process.exitValue() + "; see " + log);
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
    throw new IllegalStateException(module + " not ready within " + STARTUP + "; see " + log);
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
