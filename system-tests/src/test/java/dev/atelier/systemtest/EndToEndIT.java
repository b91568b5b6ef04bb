package dev.atelier.systemtest;

import static dev.atelier.systemtest.SuiteApi.getJson;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import dev.atelier.systemtest.OtlpReceiver.ReceivedSpan;
import io.restassured.http.ContentType;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * One requirement through the five packaged services, as a user runs them: submit the sample
 * requirement, wait for the workflow to complete, and check what every part of the system says
 * about it against every other part.
 */
class EndToEndIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Set<String> SERVICES =
      Set.of(
          "orchestrator-service",
          "agent-worker-service",
          "llm-gateway-service",
          "context-service",
          "tracking-service");

  private static AtelierSuite suite;

  @BeforeAll
  static void startSuite() throws Exception {
    // JSON logs, as in Kubernetes (LOG_JSON in the atelier-config ConfigMap): checked below.
    Map<String, String> json = Map.of("LOG_JSON", "true");
    suite =
        AtelierSuite.start(
            Map.of(
                "orchestrator", json,
                "agent-worker", json,
                "llm-gateway", json,
                "context", json,
                "tracking", json));
  }

  @AfterAll
  static void stopSuite() {
    if (suite != null) {
      suite.close();
    }
  }

  @Test
  void aRequirementBecomesArtifactsWithEveryCallMeteredAndOneTrace() throws Exception {
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
    assertThat(location).contains("/api/v1/workflows/");
    String workflowId = location.substring(location.lastIndexOf('/') + 1);

    JsonNode workflow = awaitFinished(workflowId);
    assertThat(workflow.path("status").asText())
        .as(
            "workflow %s ended %s (%s)%s",
            workflowId, workflow.path("status"), workflow.path("failureReason"), suite.logs())
        .isEqualTo("completed");

    // Every step of the built-in definition succeeded, developer and tester included.
    List<JsonNode> steps = list(workflow.path("steps"));
    assertThat(steps)
        .extracting(s -> s.path("role").asText())
        .containsExactlyInAnyOrderElementsOf(AtelierSuite.ROLES);
    assertThat(steps).allSatisfy(s -> assertThat(s.path("state").asText()).isEqualTo("succeeded"));

    // Every role's artifact is in context-service and conforms to the role's output schema.
    for (String role : AtelierSuite.ROLES) {
      JsonNode agent = getJson(suite.url("orchestrator"), "/api/v1/agents/" + role);
      String artifact = agent.path("outputArtifact").asText();
      JsonNode stored =
          getJson(
              suite.url("context"), "/api/v1/workflows/" + workflowId + "/artifacts/" + artifact);
      assertThat(stored.path("producer").path("agent").asText()).isEqualTo(role);
      Set<ValidationMessage> errors =
          JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012)
              .getSchema(agent.path("outputSchema"))
              .validate(stored.path("content"));
      assertThat(errors).as("%s output against its schema", role).isEmpty();
      JsonNode markdown =
          getJson(
              suite.url("context"),
              "/api/v1/workflows/" + workflowId + "/artifacts/" + artifact + ".md");
      assertThat(markdown.path("content").asText()).isNotBlank();
    }

    // One ledger row per LLM call the gateway made, each with tokens and a cost.
    long gatewayCalls = gatewayCallCount();
    List<JsonNode> ledger = awaitLedger(workflowId, gatewayCalls);
    assertThat(gatewayCalls).isGreaterThanOrEqualTo(AtelierSuite.ROLES.size());
    assertThat(ledger).hasSize((int) gatewayCalls);
    assertThat(ledger)
        .extracting(c -> c.path("id").asText())
        .doesNotHaveDuplicates()
        .doesNotContain("");
    assertThat(ledger)
        .allSatisfy(
            c -> {
              assertThat(c.path("inputTokens").asLong()).isPositive();
              assertThat(c.path("outputTokens").asLong()).isPositive();
              assertThat(c.path("provider").asText()).isEqualTo("simulated");
              assertThat(c.path("costUsd").isNumber()).isTrue();
            });
    assertThat(ledger).extracting(c -> c.path("agent").asText()).containsAll(AtelierSuite.ROLES);

    // The workflow's totals in the orchestrator and in tracking match the ledger rows exactly.
    long inputTokens = ledger.stream().mapToLong(c -> c.path("inputTokens").asLong()).sum();
    long outputTokens = ledger.stream().mapToLong(c -> c.path("outputTokens").asLong()).sum();
    BigDecimal cost =
        ledger.stream()
            .map(c -> c.path("costUsd").decimalValue())
            .reduce(BigDecimal.ZERO, BigDecimal::add);
    JsonNode finalView =
        Awaitility.await("orchestrator usage totals")
            .atMost(Duration.ofSeconds(30))
            .until(
                () -> getJson(suite.url("orchestrator"), "/api/v1/workflows/" + workflowId),
                w -> w.path("usage").path("calls").asLong() == gatewayCalls);
    JsonNode usage = finalView.path("usage");
    assertThat(usage.path("inputTokens").asLong()).isEqualTo(inputTokens);
    assertThat(usage.path("outputTokens").asLong()).isEqualTo(outputTokens);
    assertThat(usage.path("costUsd").decimalValue()).isEqualByComparingTo(cost);
    JsonNode tracked = getJson(suite.url("tracking"), "/api/v1/workflows/" + workflowId + "/usage");
    assertThat(tracked.path("totals").path("calls").asLong()).isEqualTo(gatewayCalls);
    assertThat(tracked.path("totals").path("inputTokens").asLong()).isEqualTo(inputTokens);
    assertThat(tracked.path("totals").path("costUsd").decimalValue()).isEqualByComparingTo(cost);

    // The whole workflow is one trace, across all five services.
    String traceId = finalView.path("traceId").asText();
    assertThat(traceId).matches("[0-9a-f]{32}");
    Awaitility.await("spans of all five services in trace " + traceId)
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                suite.otlp.trace(traceId).stream()
                    .map(ReceivedSpan::service)
                    .collect(Collectors.toSet()),
            services -> services.containsAll(SERVICES));
    List<ReceivedSpan> trace = suite.otlp.trace(traceId);
    Set<String> names = trace.stream().map(ReceivedSpan::name).collect(Collectors.toSet());
    assertThat(names).contains("invoke_workflow software-delivery");
    for (String role : AtelierSuite.ROLES) {
      assertThat(names).contains("invoke_agent " + role);
    }
    List<ReceivedSpan> chats = trace.stream().filter(s -> s.name().startsWith("chat ")).toList();
    assertThat(chats).hasSize((int) gatewayCalls);
    assertThat(chats)
        .allSatisfy(
            s -> {
              assertThat(s.attributes()).containsEntry("gen_ai.operation.name", "chat");
              assertThat(s.attributes())
                  .containsKeys(
                      "gen_ai.usage.input_tokens",
                      "gen_ai.usage.output_tokens",
                      "gen_ai.request.model",
                      "gen_ai.agent.name");
            });
    assertThat(trace)
        .filteredOn(s -> "rabbitmq".equals(s.attributes().get("messaging.system")))
        .extracting(ReceivedSpan::service)
        .contains(
            "orchestrator-service",
            "agent-worker-service",
            "llm-gateway-service",
            "tracking-service");
    // Every span's parent is in the trace too (nothing hangs off a parent from another trace).
    Set<String> ids = trace.stream().map(ReceivedSpan::spanId).collect(Collectors.toSet());
    assertThat(
            trace.stream().filter(s -> !s.parentSpanId().isEmpty()).map(ReceivedSpan::parentSpanId))
        .allMatch(ids::contains);
    // ... so the whole trace is one tree under the submit request: every agent, gateway and ledger
    // span descends
    // from the orchestrator's POST /api/v1/workflows server span.
    List<ReceivedSpan> roots = trace.stream().filter(s -> s.parentSpanId().isEmpty()).toList();
    assertThat(roots).hasSize(1);
    assertThat(roots.get(0).service()).isEqualTo("orchestrator-service");
    assertThat(roots.get(0).kind()).isEqualTo("SPAN_KIND_SERVER");
    assertThat(roots.get(0).name()).contains("/api/v1/workflows");

    // Every service logs JSON; the lines written while handling this workflow (the submit
    // request in the orchestrator, each step in the workers, consumed on RabbitMQ threads) carry
    // its trace id and the id of a span of that trace.
    Set<String> spanIds = trace.stream().map(ReceivedSpan::spanId).collect(Collectors.toSet());
    for (ServiceProcess service : suite.services.values()) {
      List<JsonNode> lines = jsonLogLines(service);
      assertThat(lines).as("JSON log lines of %s", service.module()).isNotEmpty();
    }
    List<JsonNode> orchestratorLines = inTrace(suite.services.get("orchestrator"), traceId);
    assertThat(orchestratorLines)
        .extracting(l -> l.path("message").asText())
        .anyMatch(m -> m.contains(workflowId) && m.contains("-> running"))
        .anyMatch(m -> m.contains(workflowId) && m.contains("-> completed"));
    List<JsonNode> workerLines = inTrace(suite.services.get("agent-worker"), traceId);
    for (String role : AtelierSuite.ROLES) {
      assertThat(workerLines)
          .extracting(l -> l.path("message").asText())
          .anyMatch(m -> m.contains("(" + role + ")") && m.contains("completed"));
    }
    assertThat(orchestratorLines)
        .allSatisfy(l -> assertThat(spanIds).contains(l.path("mdc").path("spanId").asText()));
    assertThat(workerLines)
        .allSatisfy(l -> assertThat(spanIds).contains(l.path("mdc").path("spanId").asText()));
  }

  /** Every line of a service's log, each of which must be a JSON object. */
  private static List<JsonNode> jsonLogLines(ServiceProcess service) throws Exception {
    List<JsonNode> lines = new java.util.ArrayList<>();
    for (String line : Files.readAllLines(service.log())) {
      if (line.isBlank() || line.startsWith("=====")) {
        continue; // the restart marker ServiceProcess writes between two lives
      }
      JsonNode node = JSON.readTree(line);
      assertThat(node.isObject()).as("a JSON log line of %s: %s", service.module(), line).isTrue();
      assertThat(node.has("message") && node.has("level") && node.has("timestamp")).isTrue();
      lines.add(node);
    }
    return lines;
  }

  private static List<JsonNode> inTrace(ServiceProcess service, String traceId) throws Exception {
    return jsonLogLines(service).stream()
        .filter(l -> traceId.equals(l.path("mdc").path("traceId").asText()))
        .toList();
  }

  @Test
  void badInputIsAProblemAndStoresNothing() {
    int before =
        getJson(suite.url("orchestrator"), "/api/v1/workflows?limit=100").path("items").size();

    given()
        .baseUri(suite.url("orchestrator"))
        .contentType(ContentType.JSON)
        .body("{\"requirement\": ")
        .post("/api/v1/workflows")
        .then()
        .statusCode(400)
        .contentType("application/problem+json");
    given()
        .baseUri(suite.url("orchestrator"))
        .contentType(ContentType.JSON)
        .body(Map.of("requirement", "x".repeat(64 * 1024 + 1)))
        .post("/api/v1/workflows")
        .then()
        .statusCode(413)
        .contentType("application/problem+json");

    assertThat(
            getJson(suite.url("orchestrator"), "/api/v1/workflows?limit=100").path("items").size())
        .isEqualTo(before);
  }

  private static JsonNode awaitFinished(String workflowId) {
    return SuiteApi.awaitEnded(suite.url("orchestrator"), workflowId, Duration.ofSeconds(180));
  }

  private static List<JsonNode> awaitLedger(String workflowId, long expected) {
    return Awaitility.await("ledger rows of " + workflowId)
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                list(
                    getJson(
                            suite.url("tracking"),
                            "/api/v1/llm-calls?workflowId=" + workflowId + "&limit=500")
                        .path("items")),
            rows -> rows.size() >= expected);
  }

  /** Calls the gateway made, from its own metrics: the ledger must have exactly this many rows. */
  private static long gatewayCallCount() {
    String metrics =
        given()
            .baseUri(suite.url("llm-gateway"))
            .get("/q/metrics")
            .then()
            .statusCode(200)
            .extract()
            .asString();
    Map<String, Double> counts = new HashMap<>();
    metrics
        .lines()
        .filter(l -> l.startsWith("gen_ai_client_operation_duration_seconds_count"))
        // name{labels} value [# {exemplar labels} value timestamp]
        .map(l -> l.substring(l.indexOf("} ") + 2).split(" ")[0])
        .forEach(value -> counts.merge("calls", Double.parseDouble(value), Double::sum));
    assertThat(counts)
        .as("gateway metric gen_ai_client_operation_duration_seconds_count")
        .containsKey("calls");
    return counts.get("calls").longValue();
  }

  private static List<JsonNode> list(JsonNode array) {
    return StreamSupport.stream(array.spliterator(), false).toList();
  }
}
