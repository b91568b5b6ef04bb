package dev.atelier.systemtest;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import dev.atelier.contracts.QueueSpec;
import dev.atelier.contracts.Topology;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.awaitility.Awaitility;

/**
 * The five services as separate processes with databases ({@code atelier_*_systest}) and a RabbitMQ
 * virtual host ({@code atelier-test-system}) of their own, wiped before each start, exporting
 * traces to an in-test receiver.
 */
final class AtelierSuite implements AutoCloseable {

  static final String VHOST = "atelier-test-system";
  static final List<String> ROLES =
      List.of(
          "business-analyst", "architect", "developer", "tester", "reviewer", "technical-writer");

  final OtlpReceiver otlp;
  final Map<String, ServiceProcess> services = new LinkedHashMap<>();
  private final Map<String, Map<String, String>> extraEnv;
  private final Map<String, Map<String, String>> envs = new HashMap<>();
  private final Map<String, Integer> ports = new HashMap<>();

  private AtelierSuite(OtlpReceiver otlp, Map<String, Map<String, String>> extraEnv) {
    this.otlp = otlp;
    this.extraEnv = extraEnv;
  }

  static AtelierSuite start() throws Exception {
    return start(Map.of());
  }

  /**
   * Starts the suite with the gateway's simulated LLM answering after {@code latency}; {@code
   * gatewayEnv} adds to the gateway's environment.
   */
  static AtelierSuite startWithLlmLatency(Duration latency, Map<String, String> gatewayEnv)
      throws Exception {
    Map<String, String> gateway = new HashMap<>(gatewayEnv);
    gateway.put("GATEWAY_SIMULATED_LATENCY", "fixed");
    gateway.put("GATEWAY_SIMULATED_LATENCY_FIXED", latency.toMillis() + "ms");
    return start(Map.of("llm-gateway", gateway));
  }

  /**
   * Starts the suite; {@code extraEnv} adds environment variables per service ("llm-gateway" ->
   * {...}), for example a simulated LLM latency.
   */
  static AtelierSuite start(Map<String, Map<String, String>> extraEnv) throws Exception {
    resetDatabases();
    resetQueues();
    AtelierSuite suite = new AtelierSuite(new OtlpReceiver(), extraEnv);
    try {
      suite.launch();
    } catch (Exception | AssertionError e) {
      suite.close();
      throw e;
    }
    return suite;
  }

  private void launch() throws Exception {
    Path root = ServiceProcess.root();
    for (String m : List.of("context", "llm-gateway", "tracking", "agent-worker", "orchestrator")) {
      ports.put(m, ServiceProcess.freePort());
    }
    Map<String, String> common = new HashMap<>();
    common.put("RABBITMQ_VIRTUAL_HOST", VHOST);
    common.put("OTEL_EXPORTER_OTLP_ENDPOINT", otlp.endpoint());
    common.put("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf");
    common.put("QUARKUS_OTEL_BSP_SCHEDULE_DELAY", "200ms");
    common.put("CONTEXT_URL", "http://127.0.0.1:" + ports.get("context"));
    common.put("GATEWAY_URL", "http://127.0.0.1:" + ports.get("llm-gateway"));

    for (String m : List.of("context", "llm-gateway", "tracking", "orchestrator", "agent-worker")) {
      String module = m + "-service";
      Map<String, String> env = new HashMap<>(common);
      String db = m.replace("llm-", "").replace("-", "_");
      env.put("DB_URL", "jdbc:postgresql://127.0.0.1:5432/atelier_" + db + "_systest");
      env.putAll(extraEnv.getOrDefault(m, Map.of()));
      envs.put(m, env);
      services.put(m, ServiceProcess.start(root, module, ports.get(m), env));
    }
    services.values().forEach(AtelierSuite::awaitReady);
  }

  /**
   * Starts a second instance of {@code service} (same database and queues, its own port),
   * registered as {@code <service>-2}.
   */
  String startReplica(String service) throws Exception {
    String name = service + "-2";
    int port = ServiceProcess.freePort();
    ports.put(name, port);
    envs.put(name, envs.get(service));
    ServiceProcess p =
        ServiceProcess.start(ServiceProcess.root(), service + "-service", port, envs.get(service));
    services.put(name, p);
    awaitReady(p);
    return name;
  }

  /** Kills a service the way a crash or an OOM kill does: SIGKILL, no shutdown hooks. */
  void kill(String service) {
    services.get(service).kill();
  }

  /**
   * Stops a service the way Kubernetes or {@code docker compose stop} does: SIGTERM, then waits up
   * to {@code within} for it to exit.
   *
   * @return true when it exited in time
   */
  boolean terminate(String service, Duration within) {
    return services.get(service).terminate(within);
  }

  /** Starts a service again with the same port and environment, and waits until it is ready. */
  void restart(String service) throws Exception {
    String module = service.replaceFirst("-2$", "") + "-service";
    ServiceProcess p =
        ServiceProcess.start(ServiceProcess.root(), module, ports.get(service), envs.get(service));
    services.put(service, p);
    awaitReady(p);
  }

  private static void awaitReady(ServiceProcess p) {
    Awaitility.await(p.module() + " ready")
        .atMost(Duration.ofSeconds(120))
        .pollInterval(Duration.ofMillis(250))
        .until(p::ready);
  }

  String url(String service) {
    return services.get(service).url();
  }

  /** The tail of every service's log, for failure messages. */
  String logs() {
    StringBuilder sb = new StringBuilder();
    services
        .values()
        .forEach(
            p ->
                sb.append("\n===== ")
                    .append(p.module())
                    .append(" (")
                    .append(p.log())
                    .append(")\n")
                    .append(p.tail()));
    return sb.toString();
  }

  private static void resetDatabases() throws Exception {
    try (var c =
            DriverManager.getConnection(
                "jdbc:postgresql://127.0.0.1:5432/postgres", "postgres", null);
        Statement s = c.createStatement()) {
      for (String db : List.of("orchestrator", "gateway", "context", "tracking")) {
        s.execute("drop database if exists atelier_" + db + "_systest with (force)");
      }
    }
  }

  /** Durable queues outlive a run; start every run from empty ones. */
  private static void resetQueues() throws Exception {
    ConnectionFactory f = new ConnectionFactory();
    f.setHost("127.0.0.1");
    f.setVirtualHost(VHOST);
    List<QueueSpec> specs =
        new ArrayList<>(
            List.of(
                Topology.ORCHESTRATOR_RESULTS,
                Topology.ORCHESTRATOR_LLM_CALLS,
                Topology.TRACKING_LLM_CALLS,
                Topology.TRACKING_WORKFLOW_EVENTS));
    ROLES.forEach(r -> specs.add(Topology.stepQueue(r)));
    try (Connection c = f.newConnection("system-test-reset")) {
      for (QueueSpec q : specs) {
        for (String name : List.of(q.name(), q.deadLetterQueue())) {
          try (Channel ch = c.createChannel()) {
            ch.queueDelete(name);
          } catch (Exception absent) {
            // not there yet: nothing to reset
          }
        }
      }
    }
  }

  @Override
  public void close() {
    // Stop workers first so nothing is mid-step when its dependencies go away.
    List<ServiceProcess> reverse = new ArrayList<>(services.values());
    java.util.Collections.reverse(reverse);
    reverse.forEach(ServiceProcess::close);
    otlp.close();
  }
}
