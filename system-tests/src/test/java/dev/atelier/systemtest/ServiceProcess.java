package dev.atelier.systemtest;

import java.io.File;
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
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One packaged Atelier service started as a child process (java -jar quarkus-run.jar) on a free
 * port.
 */
final class ServiceProcess implements AutoCloseable {

  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private final String module;
  private final int port;
  private final Path log;
  private final Process process;

  private ServiceProcess(String module, int port, Path log, Process process) {
    this.module = module;
    this.port = port;
    this.log = log;
    this.process = process;
  }

  /** Starts {@code module} from {@code <root>/<module>/target/quarkus-app/quarkus-run.jar}. */
  static ServiceProcess start(Path root, String module, int port, Map<String, String> env)
      throws IOException {
    Path jar = root.resolve(module).resolve("target/quarkus-app/quarkus-run.jar");
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException(
          jar + " is missing: package the services first (./mvnw verify does)");
    }
    Path logDir = root.resolve("system-tests/target/service-logs");
    Files.createDirectories(logDir);
    // One log per instance (module and port); a restart on the same port appends to it.
    Path log = logDir.resolve(module + "-" + port + ".log");
    if (Files.exists(log)) {
      Files.writeString(log, "\n===== restarted =====\n", java.nio.file.StandardOpenOption.APPEND);
    }
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    // Small heaps and one GC thread: five JVMs and the test share two cores.
    command.addAll(
        List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-jar", jar.toString()));
    ProcessBuilder pb =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            // A restarted service appends, so the log shows both lives.
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    pb.directory(root.resolve(module).toFile());
    // A real provider key in the developer's shell must not turn a test run into paid calls.
    pb.environment().remove("OPENAI_API_KEY");
    pb.environment().remove("OPENAI_BASE_URL");
    pb.environment().put("HTTP_PORT", Integer.toString(port));
    pb.environment().putAll(env);
    return new ServiceProcess(module, port, log, pb.start());
  }

  /**
   * A port free now, below Linux's ephemeral range (32768-60999): a port from bind(0) comes from
   * that range, where an outgoing connection of another process (a service of the suite opening its
   * database pool) could take it before the service binds it, as one did in a CI run.
   */
  static int freePort() throws IOException {
    java.util.concurrent.ThreadLocalRandom random =
        java.util.concurrent.ThreadLocalRandom.current();
    for (int i = 0; i < 100; i++) {
      int port = 20_000 + random.nextInt(12_000);
      try (ServerSocket s = new ServerSocket()) {
        s.bind(new java.net.InetSocketAddress(port));
        return port;
      } catch (IOException taken) {
        // another one
      }
    }
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  String url() {
    return "http://127.0.0.1:" + port;
  }

  String module() {
    return module;
  }

  Path log() {
    return log;
  }

  /** True once /q/health/ready answers 200; throws if the process died. */
  boolean ready() {
    if (!process.isAlive()) {
      throw new IllegalStateException(
          module + " exited with " + process.exitValue() + "; see " + log + "\n" + tail());
    }
    try {
      HttpResponse<Void> r =
          HTTP.send(
              HttpRequest.newBuilder(URI.create(url() + "/q/health/ready"))
                  .timeout(Duration.ofSeconds(2))
                  .build(),
              HttpResponse.BodyHandlers.discarding());
      return r.statusCode() == 200;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  String tail() {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  /** SIGKILL: the process gets no chance to finish anything or close its connections itself. */
  void kill() {
    process.destroyForcibly();
    try {
      process.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** SIGTERM, and waits up to {@code within} for the process to exit; true when it did. */
  boolean terminate(Duration within) {
    process.destroy();
    try {
      return process.waitFor(within.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Stops the service gracefully (SIGTERM) so it flushes its spans, then forcibly if it hangs. */
  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(20, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
  }

  static Path root() {
    String root = System.getProperty("atelier.root");
    return root != null ? Path.of(root) : new File("..").toPath().toAbsolutePath().normalize();
  }
}
