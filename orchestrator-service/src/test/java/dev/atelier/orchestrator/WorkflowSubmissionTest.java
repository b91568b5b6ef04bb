package dev.atelier.orchestrator;

import static dev.atelier.orchestrator.Api.awaitStatus;
import static dev.atelier.orchestrator.Api.submit;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.nullValue;
import static org.hamcrest.Matchers.startsWith;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.ExtractableResponse;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Submission rules, the error contract, listing, and the definition APIs. */
@QuarkusTest
class WorkflowSubmissionTest {

  private static final String PROBLEM = "application/problem+json";

  private static TestWorker worker;

  @Inject DataSource dataSource;

  @BeforeAll
  static void startWorker() throws Exception {
    worker = TestWorker.shared();
  }

  /** Completes a test-single workflow so it leaves nothing running behind. */
  private void finishSingle(UUID id) {
    worker.complete(worker.await(id, "solo", 1), "analysis", null);
    awaitStatus(id, "completed");
  }

  private ExtractableResponse<Response> post(Object body, String key) {
    var request = given().contentType("application/json").body(body);
    if (key != null) {
      request = request.header("Idempotency-Key", key);
    }
    return request.post("/api/v1/workflows").then().extract();
  }

  @Test
  void sameIdempotencyKeyReturnsTheSameWorkflow() {
    String key = "submit-" + UUID.randomUUID();
    Map<String, Object> body =
        Map.of("requirement", "Idempotent please", "definition", "test-single", "team", "idem");

    ExtractableResponse<Response> first = post(body, key);
    ExtractableResponse<Response> again = post(body, key);

    assertThat(first.statusCode()).isEqualTo(202);
    assertThat(again.statusCode()).isEqualTo(202);
    String id = first.path("id");
    assertThat((String) again.path("id")).isEqualTo(id);
    assertThat(first.header("Location")).endsWith("/api/v1/workflows/" + id);
    assertThat(again.header("Location")).isEqualTo(first.header("Location"));
    assertThat(
            TestDb.count(
                dataSource, "select count(*) from workflow where idempotency_key = ?", key))
        .isEqualTo(1);
    UUID workflowId = UUID.fromString(id);
    worker.await(workflowId, "solo", 1);
    await()
        .during(Duration.ofMillis(700))
        .atMost(Duration.ofSeconds(3))
        .until(() -> worker.requests(workflowId).size() == 1);

    // The same key for a different request is a client error, not a silent replay.
    given()
        .contentType("application/json")
        .header("Idempotency-Key", key)
        .body(Map.of("requirement", "Something else", "definition", "test-single"))
        .post("/api/v1/workflows")
        .then()
        .statusCode(422)
        .contentType(PROBLEM)
        .body("detail", containsString(id));
    finishSingle(workflowId);
  }

  @Test
  void replayWithTheKeyAnswersAfterItsRoleAndDefinitionAreRetired() throws Exception {
    given().delete("/api/v1/workflow-definitions/test-replay");
    given().delete("/api/v1/agents/test-replay-role");
    given()
        .contentType("application/json")
        .body(
            Map.of(
                "systemPrompt", "You take notes.",
                "userPromptTemplate", "Notes on: {{requirement}}",
                "outputArtifact", "replay-notes",
                "outputSchema", Map.of("type", "object")))
        .put("/api/v1/agents/test-replay-role")
        .then()
        .statusCode(201);
    worker.consume("test-replay-role");
    given()
        .contentType("application/json")
        .body(Map.of("steps", List.of(Map.of("id", "only", "role", "test-replay-role"))))
        .put("/api/v1/workflow-definitions/test-replay")
        .then()
        .statusCode(201);
    String key = "replay-" + UUID.randomUUID();
    Map<String, Object> body = Map.of("requirement", "Replay me", "definition", "test-replay");
    ExtractableResponse<Response> first = post(body, key);
    assertThat(first.statusCode()).isEqualTo(202);
    UUID id = UUID.fromString(first.path("id"));
    worker.complete(worker.await(id, "only", 1), "replay-notes", null);
    awaitStatus(id, "completed");

    // The role goes first (retired under the definition, as a concurrent edit on another replica
    // can leave it), then the definition: the key still answers with its workflow.
    TestDb.update(
        dataSource,
        "update agent_definition set retired_at = now() where name = ? and retired_at is null",
        "test-replay-role");
    ExtractableResponse<Response> withoutRole = post(body, key);
    assertThat(withoutRole.statusCode()).isEqualTo(202);
    assertThat((String) withoutRole.path("id")).isEqualTo(id.toString());
    given().delete("/api/v1/workflow-definitions/test-replay").then().statusCode(204);
    ExtractableResponse<Response> withoutDefinition = post(body, key);
    assertThat(withoutDefinition.statusCode()).isEqualTo(202);
    assertThat((String) withoutDefinition.path("id")).isEqualTo(id.toString());
    assertThat(withoutDefinition.header("Location")).isEqualTo(first.header("Location"));
    // A different request with the key is still refused, and a new key is resolved as before.
    assertThat(post(Map.of("requirement", "Other", "definition", "test-replay"), key).statusCode())
        .isEqualTo(422);
    assertThat(post(body, "replay-" + UUID.randomUUID()).statusCode()).isEqualTo(400);
    assertThat(
            TestDb.count(
                dataSource, "select count(*) from workflow where idempotency_key = ?", key))
        .isEqualTo(1);
  }

  @Test
  void badSubmissionsAreProblemsAndStoreOrPublishNothing() {
    long workflows = TestDb.count(dataSource, "select count(*) from workflow");
    long steps = TestDb.count(dataSource, "select count(*) from workflow_step");
    long outbox = TestDb.outboxSequence(dataSource);

    given()
        .contentType("application/json")
        .body("{\"requirement\": \"unterminated")
        .post("/api/v1/workflows")
        .then()
        .statusCode(400)
        .contentType(PROBLEM)
        .body("type", equalTo("https://atelier.dev/problems/malformed-body"));
    given()
        .contentType("application/json")
        .body(Map.of("requirement", "   "))
        .post("/api/v1/workflows")
        .then()
        .statusCode(400)
        .contentType(PROBLEM)
        .body("errors[0].field", equalTo("requirement"));
    given()
        .contentType("application/json")
        .body(Map.of("title", "no requirement"))
        .post("/api/v1/workflows")
        .then()
        .statusCode(400)
        .contentType(PROBLEM)
        .body("detail", containsString("requirement"));
    // 65536 bytes pass the limit check; one more is refused, naming the limit.
    String tooLong = "é".repeat(32768) + "x";
    given()
        .contentType("application/json")
        .body(Map.of("requirement", tooLong, "definition", "no-such-definition"))
        .post("/api/v1/workflows")
        .then()
        .statusCode(413)
        .contentType(PROBLEM)
        .body("type", equalTo("https://atelier.dev/problems/requirement-too-large"))
        .body("detail", containsString("65537 bytes"))
        .body("detail", containsString("limit is 65536 bytes"));
    given()
        .contentType("application/json")
        .body(Map.of("requirement", "Build it", "definition", "no-such-definition"))
        .post("/api/v1/workflows")
        .then()
        .statusCode(400)
        .contentType(PROBLEM)
        .body("type", equalTo("https://atelier.dev/problems/unknown-definition"))
        .body("detail", containsString("no-such-definition"));
    given()
        .contentType("application/json")
        .body(Map.of("requirement", "Build it", "budgetUsd", -1))
        .post("/api/v1/workflows")
        .then()
        .statusCode(400)
        .contentType(PROBLEM)
        .body("errors[0].field", equalTo("budgetUsd"));
    given()
        .contentType("application/json")
        .body(Map.of("requirement", "Build it", "metadata", Map.of("bad key!", "v")))
        .post("/api/v1/workflows")
        .then()
        .statusCode(400)
        .contentType(PROBLEM)
        .body("detail", containsString("bad key!"));
    // Valid JSON, but PostgreSQL's text cannot hold a NUL character: refused, not a 500.
    given()
        .contentType("application/json")
        .body(Map.of("requirement", "Build \u0000 it", "definition", "test-single"))
        .post("/api/v1/workflows")
        .then()
        .statusCode(400)
        .contentType(PROBLEM)
        .body("type", equalTo("https://atelier.dev/problems/unstorable-text"))
        .body("detail", containsString("NUL"));
    // Half a surrogate pair: the driver would store '?', and the step request could not be read
    // as jsonb when its deadline is moved. Refused wherever it is.
    for (String body :
        List.of(
            "{\"requirement\": \"Track \\ud800 orders\", \"definition\": \"test-single\"}",
            "{\"requirement\": \"Build it\", \"definition\": \"test-single\","
                + " \"metadata\": {\"k\": \"v\\udc00\"}}")) {
      given()
          .contentType("application/json")
          .body(body)
          .post("/api/v1/workflows")
          .then()
          .statusCode(400)
          .contentType(PROBLEM)
          .body("type", equalTo("https://atelier.dev/problems/malformed-body"))
          .body("detail", containsString("half of a UTF-16 surrogate pair"));
    }

    assertThat(TestDb.count(dataSource, "select count(*) from workflow")).isEqualTo(workflows);
    assertThat(TestDb.count(dataSource, "select count(*) from workflow_step")).isEqualTo(steps);
    assertThat(TestDb.outboxSequence(dataSource)).isEqualTo(outbox);
  }

  @Test
  void requirementOfExactly64KiBIsAccepted() {
    String atLimit = "é".repeat(32767) + "xy";
    String id =
        post(Map.of("requirement", atLimit, "definition", "test-single"), null)
            .response()
            .then()
            .statusCode(202)
            .body("title", startsWith("éé"))
            .extract()
            .path("id");
    UUID workflowId = UUID.fromString(id);
    assertThat(worker.await(workflowId, "solo", 1).request().requirement()).isEqualTo(atLimit);
    finishSingle(workflowId);
  }

  @Test
  void healthMetricsAndOpenApiAreServed() {
    UUID id = submit("test-single", "Count me");
    given()
        .get("/q/health/ready")
        .then()
        .statusCode(200)
        .body("checks.name", org.hamcrest.Matchers.hasItem("rabbitmq"));
    given()
        .get("/q/metrics")
        .then()
        .statusCode(200)
        .body(containsString("atelier_workflows_submitted_total{definition=\"test-single\""))
        .body(containsString("atelier_steps_dispatched_total{role=\"business-analyst\""));
    given()
        .get("/q/openapi")
        .then()
        .statusCode(200)
        .body(containsString("/api/v1/workflows/{id}"))
        .body(containsString("/api/v1/agents/{role}"));
    finishSingle(id);
    given()
        .get("/q/metrics")
        .then()
        .body(containsString("atelier_workflows_completed_total{definition=\"test-single\""))
        .body(containsString("atelier_workflow_duration_seconds_count{definition=\"test-single\""));
  }

  @Test
  void unknownAndMalformedWorkflowIdsAreNotFoundProblems() {
    given()
        .get("/api/v1/workflows/{id}", UUID.randomUUID())
        .then()
        .statusCode(404)
        .contentType(PROBLEM)
        .body("type", equalTo("https://atelier.dev/problems/not-found"));
    given()
        .get("/api/v1/workflows/not-a-uuid")
        .then()
        .statusCode(404)
        .contentType(PROBLEM)
        .body("detail", containsString("not-a-uuid"));
  }

  @Test
  void listIsNewestFirstFilteredAndPaginated() {
    String team = "list-" + UUID.randomUUID().toString().substring(0, 8);
    List<UUID> ids =
        List.of(submitFor(team, "first"), submitFor(team, "second"), submitFor(team, "third"));

    var page1 =
        given()
            .queryParam("team", team)
            .queryParam("limit", 2)
            .get("/api/v1/workflows")
            .then()
            .statusCode(200)
            .extract();
    assertThat(page1.jsonPath().getList("items.title")).containsExactly("third", "second");
    String cursor = page1.path("nextCursor");
    assertThat(cursor).isNotNull();
    given()
        .queryParam("team", team)
        .queryParam("limit", 2)
        .queryParam("cursor", cursor)
        .get("/api/v1/workflows")
        .then()
        .statusCode(200)
        .body("items.title", equalTo(List.of("first")))
        .body("nextCursor", nullValue());
    given()
        .queryParam("team", team)
        .queryParam("status", "completed")
        .get("/api/v1/workflows")
        .then()
        .statusCode(200)
        .body("items.size()", equalTo(0));

    // Time window: from is inclusive, to exclusive.
    String secondCreated =
        given().get("/api/v1/workflows/{id}", ids.get(1)).then().extract().path("createdAt");
    given()
        .queryParam("team", team)
        .queryParam("createdFrom", secondCreated)
        .get("/api/v1/workflows")
        .then()
        .statusCode(200)
        .body("items.title", equalTo(List.of("third", "second")));
    given()
        .queryParam("team", team)
        .queryParam("definition", "test-single")
        .queryParam("createdTo", secondCreated)
        .get("/api/v1/workflows")
        .then()
        .statusCode(200)
        .body("items.title", equalTo(List.of("first")));
    given()
        .queryParam("createdFrom", "yesterday")
        .get("/api/v1/workflows")
        .then()
        .statusCode(400)
        .contentType(PROBLEM);
    given()
        .queryParam("limit", 101)
        .get("/api/v1/workflows")
        .then()
        .statusCode(400)
        .contentType(PROBLEM);
    given()
        .queryParam("status", "sleeping")
        .get("/api/v1/workflows")
        .then()
        .statusCode(400)
        .contentType(PROBLEM);
    given()
        .queryParam("cursor", "%%%")
        .get("/api/v1/workflows")
        .then()
        .statusCode(400)
        .contentType(PROBLEM);
    // Instants Java parses but PostgreSQL cannot hold (they failed in SQL, a 500), in the filters
    // and in a made-up cursor.
    for (String far : List.of("+300000-01-01T00:00:00Z", "+1000000000-01-01T00:00:00Z")) {
      for (String filter : List.of("createdFrom", "createdTo")) {
        given()
            .queryParam(filter, far)
            .get("/api/v1/workflows")
            .then()
            .statusCode(400)
            .contentType(PROBLEM)
            .body("type", org.hamcrest.Matchers.endsWith("invalid-" + filter))
            .body("detail", org.hamcrest.Matchers.containsString("must be between"));
      }
      String farCursor =
          java.util.Base64.getUrlEncoder()
              .encodeToString((far + "|" + UUID.randomUUID()).getBytes(StandardCharsets.UTF_8));
      given()
          .queryParam("cursor", farCursor)
          .get("/api/v1/workflows")
          .then()
          .statusCode(400)
          .contentType(PROBLEM)
          .body("type", org.hamcrest.Matchers.endsWith("invalid-cursor"));
    }
    ids.forEach(this::finishSingle);
  }

  private UUID submitFor(String team, String title) {
    String id =
        post(
                Map.of(
                    "requirement",
                    "List me",
                    "title",
                    title,
                    "team",
                    team,
                    "definition",
                    "test-single"),
                null)
            .path("id");
    return UUID.fromString(id);
  }

  @Test
  void definitionsAndAgentsAreListedWithTheirContracts() {
    given()
        .get("/api/v1/workflow-definitions/software-delivery")
        .then()
        .statusCode(200)
        .body(
            "steps.id",
            equalTo(List.of("analyse", "design", "implement", "test-plan", "review", "document")))
        .body("steps.find { it.id == 'review' }.loop.to", equalTo("implement"))
        .body("steps.find { it.id == 'review' }.loop.maxIterations", equalTo(2))
        .body("steps[0].retry.maxAttempts", equalTo(3))
        .body("steps[0].timeout", equalTo("10m"));
    given()
        .get("/api/v1/workflow-definitions")
        .then()
        .statusCode(200)
        .body("name", org.hamcrest.Matchers.hasItem("software-delivery"));
    given().get("/api/v1/workflow-definitions/nope").then().statusCode(404).contentType(PROBLEM);

    given()
        .get("/api/v1/agents")
        .then()
        .statusCode(200)
        .body("name", org.hamcrest.Matchers.hasItems(TestWorker.ROLES.toArray()));
    given()
        .get("/api/v1/agents/reviewer")
        .then()
        .statusCode(200)
        .body("outputArtifact", equalTo("review"))
        .body(
            "outputSchema.properties.verdict.enum",
            equalTo(List.of("approved", "changes_requested")))
        .body("outputSchema.additionalProperties", equalTo(false));
    given().get("/api/v1/agents/nobody").then().statusCode(404).contentType(PROBLEM);
  }

  @Test
  void agentEditsAreVersionedValidatedAndRetirable() {
    String role = "test-scribe";
    given().delete("/api/v1/agents/{r}", role); // a clean start whatever an earlier run left
    Map<String, Object> scribe =
        Map.of(
            "description", "run " + UUID.randomUUID(),
            "systemPrompt", "You write things down.",
            "userPromptTemplate", "Write down: {{requirement}}",
            "outputArtifact", "notes",
            "outputSchema",
                Map.of(
                    "type",
                    "object",
                    "required",
                    List.of("text"),
                    "properties",
                    Map.of("text", Map.of("type", "string"))));

    int v1 =
        given()
            .contentType("application/json")
            .body(scribe)
            .put("/api/v1/agents/{r}", role)
            .then()
            .statusCode(201)
            .body("model", equalTo("gpt-4o-mini"))
            .extract()
            .path("version");
    given()
        .contentType("application/json")
        .body(scribe)
        .put("/api/v1/agents/{r}", role)
        .then()
        .statusCode(200)
        .body("version", equalTo(v1));
    Map<String, Object> changed = new java.util.HashMap<>(scribe);
    changed.put("temperature", 0.5);
    given()
        .contentType("application/json")
        .body(changed)
        .put("/api/v1/agents/{r}", role)
        .then()
        .statusCode(200)
        .body("version", equalTo(v1 + 1));
    given()
        .queryParam("version", v1)
        .get("/api/v1/agents/{r}", role)
        .then()
        .statusCode(200)
        .body("temperature", nullValue());

    Map<String, Object> broken = new java.util.HashMap<>(scribe);
    broken.put("userPromptTemplate", "Write {{poem}}");
    given()
        .contentType("application/json")
        .body(broken)
        .put("/api/v1/agents/{r}", role)
        .then()
        .statusCode(400)
        .contentType(PROBLEM)
        .body("detail", containsString("{{poem}}"));
    // A schema that names another document would have the worker fetch it on every step.
    Map<String, Object> remote = new java.util.HashMap<>(scribe);
    remote.put(
        "outputSchema",
        Map.of(
            "type",
            "object",
            "properties",
            Map.of("text", Map.of("$ref", "http://169.254.169.254/latest/meta-data"))));
    given()
        .contentType("application/json")
        .body(remote)
        .put("/api/v1/agents/{r}", role)
        .then()
        .statusCode(400)
        .contentType(PROBLEM)
        .body("detail", containsString("/outputSchema/properties/text/$ref"));
    given().get("/api/v1/agents/{r}", role).then().statusCode(200).body("version", equalTo(v1 + 1));

    given()
        .delete("/api/v1/agents/reviewer")
        .then()
        .statusCode(409)
        .contentType(PROBLEM)
        .body("detail", containsString("software-delivery"));
    given().delete("/api/v1/agents/{r}", role).then().statusCode(204);
    given().get("/api/v1/agents/{r}", role).then().statusCode(404);
  }

  @Test
  void runningWorkflowsKeepTheDefinitionAndAgentVersionsTheyStartedWith() throws Exception {
    given().delete("/api/v1/workflow-definitions/test-flow");
    given().delete("/api/v1/agents/test-pinned");
    Map<String, Object> agent =
        Map.of(
            "name", "test-pinned",
            "description", "run " + UUID.randomUUID(),
            "systemPrompt", "You take notes.",
            "userPromptTemplate", "Notes on: {{requirement}}",
            "outputArtifact", "pinned-notes",
            "outputSchema", Map.of("type", "object"));
    int agentVersion =
        given()
            .contentType("application/json")
            .body(agent)
            .post("/api/v1/agents")
            .then()
            .statusCode(201)
            .header("Location", containsString("/api/v1/agents/test-pinned"))
            .extract()
            .path("version");
    given()
        .contentType("application/json")
        .body(agent)
        .post("/api/v1/agents")
        .then()
        .statusCode(409)
        .contentType(PROBLEM);
    worker.consume("test-pinned");
    Map<String, Object> flow =
        Map.of(
            "description",
            "two note takers",
            "steps",
            List.of(
                Map.of("id", "first", "role", "test-pinned"),
                Map.of(
                    "id",
                    "second",
                    "role",
                    "test-pinned",
                    "needs",
                    List.of("first"),
                    "inputs",
                    List.of("pinned-notes"),
                    "timeout",
                    "5m")));
    int flowVersion =
        given()
            .contentType("application/json")
            .body(flow)
            .put("/api/v1/workflow-definitions/test-flow")
            .then()
            .statusCode(201)
            .body("steps[1].timeout", equalTo("5m"))
            .extract()
            .path("version");

    UUID id = submit("test-flow", "Take notes");
    TestWorker.Received first = worker.await(id, "first", 1);
    assertThat(first.request().agent().version()).isEqualTo(agentVersion);

    // Edit the role and the definition while the workflow runs.
    Map<String, Object> edited = new java.util.HashMap<>(agent);
    edited.put("systemPrompt", "You take terse notes.");
    given()
        .contentType("application/json")
        .body(edited)
        .put("/api/v1/agents/test-pinned")
        .then()
        .statusCode(200)
        .body("version", equalTo(agentVersion + 1));
    Map<String, Object> editedFlow = new java.util.HashMap<>(flow);
    editedFlow.put("description", "edited");
    given()
        .contentType("application/json")
        .body(editedFlow)
        .put("/api/v1/workflow-definitions/test-flow")
        .then()
        .statusCode(200)
        .body("version", equalTo(flowVersion + 1));
    given().delete("/api/v1/agents/test-pinned").then().statusCode(409).contentType(PROBLEM);
    // A change that would break the definition using the role is refused and stores nothing:
    // its second step reads the output under the old name.
    Map<String, Object> renamed = new java.util.HashMap<>(edited);
    renamed.put("outputArtifact", "terse-notes");
    given()
        .contentType("application/json")
        .body(renamed)
        .put("/api/v1/agents/test-pinned")
        .then()
        .statusCode(409)
        .contentType(PROBLEM)
        .body("type", containsString("agent-breaks-definitions"))
        .body("detail", containsString("test-flow: step 'second' reads 'pinned-notes'"));
    given()
        .get("/api/v1/agents/test-pinned")
        .then()
        .statusCode(200)
        .body("version", equalTo(agentVersion + 1))
        .body("outputArtifact", equalTo("pinned-notes"));

    worker.complete(first, "pinned-notes", null);
    TestWorker.Received second = worker.await(id, "second", 1);
    assertThat(second.request().agent().version()).isEqualTo(agentVersion);
    assertThat(second.request().agent().systemPrompt()).isEqualTo("You take notes.");
    assertThat(second.request().inputs())
        .extracting(Object::toString)
        .containsExactly("pinned-notes@1");
    assertThat(Duration.between(second.at(), second.request().deadline()))
        .isBetween(Duration.ofMinutes(4), Duration.ofMinutes(5));
    worker.complete(second, "pinned-notes", null);

    var done = awaitStatus(id, "completed");
    assertThat(done.getInt("definitionVersion")).isEqualTo(flowVersion);
    assertThat(done.getList("steps.agentVersion", Integer.class)).containsOnly(agentVersion);
    given().delete("/api/v1/workflow-definitions/test-flow").then().statusCode(204);
    given().get("/api/v1/workflow-definitions/test-flow").then().statusCode(404);
    given().delete("/api/v1/agents/test-pinned").then().statusCode(204);
  }

  @Test
  void invalidWorkflowDefinitionsAreRefusedNamingTheFault() {
    long stored = TestDb.count(dataSource, "select count(*) from workflow_definition");
    Map<String, Object> cyclic =
        Map.of(
            "steps",
            List.of(
                Map.of("id", "a", "role", "business-analyst", "needs", List.of("b")),
                Map.of("id", "b", "role", "business-analyst", "needs", List.of("a"))));
    given()
        .contentType("application/json")
        .body(cyclic)
        .put("/api/v1/workflow-definitions/test-flow")
        .then()
        .statusCode(400)
        .contentType(PROBLEM)
        .body("type", equalTo("https://atelier.dev/problems/invalid-definition"))
        .body("detail", containsString("[a, b] can never start"));
    Map<String, Object> unknownRole = Map.of("steps", List.of(Map.of("id", "a", "role", "poet")));
    given()
        .contentType("application/json")
        .body(unknownRole)
        .put("/api/v1/workflow-definitions/test-flow")
        .then()
        .statusCode(400)
        .contentType(PROBLEM)
        .body("detail", containsString("unknown role 'poet'"));
    Map<String, Object> typo =
        Map.of("steps", List.of(Map.of("id", "a", "role", "business-analyst", "need", List.of())));
    given()
        .contentType("application/json")
        .body(typo)
        .put("/api/v1/workflow-definitions/test-flow")
        .then()
        .statusCode(400)
        .contentType(PROBLEM)
        .body("detail", containsString("unknown field 'need'"));
    // Wrong types and nulls are named in the API's terms, not Java's.
    for (String body :
        List.of(
            "{\"steps\": [null]}",
            "{\"steps\": [{\"id\": \"a\", \"role\": \"architect\", \"needs\": [null]}]}",
            "{\"steps\": [{\"id\": \"a\", \"role\": \"architect\", \"timeout\": true}]}",
            "{\"steps\": [{\"id\": \"a\", \"role\": \"architect\", \"timeout\":"
                + " \"ten minutes\"}]}")) {
      given()
          .contentType("application/json")
          .body(body)
          .put("/api/v1/workflow-definitions/test-flow")
          .then()
          .statusCode(400)
          .contentType(PROBLEM)
          .body("detail", containsString("steps"))
          .body("detail", not(containsString("java")))
          .body("detail", not(containsString("dev.atelier")));
    }
    given()
        .contentType("application/json")
        .body("{\"maxTokens\": \"lots\"}")
        .put("/api/v1/agents/typed")
        .then()
        .statusCode(400)
        .contentType(PROBLEM)
        .body("detail", containsString("maxTokens: expected a number"))
        .body("detail", not(containsString("java")));
    // Our own readers' words pass through as they are.
    given()
        .contentType("application/json")
        .body(
            "{\"steps\": [{\"id\": \"a\", \"role\": \"architect\", \"timeout\":"
                + " \"ten minutes\"}]}")
        .put("/api/v1/workflow-definitions/test-flow")
        .then()
        .statusCode(400)
        .body("detail", containsString("not a duration: 'ten minutes' (write e.g. 500ms"));
    // A null in a list is named where it is; in an output schema it is the schema's business.
    given()
        .contentType("application/json")
        .body(
            "{\"fallbackModels\": [null], \"outputSchema\": {\"type\": \"object\","
                + " \"properties\": {\"a\": {\"enum\": [null, \"x\"]}}}}")
        .put("/api/v1/agents/typed")
        .then()
        .statusCode(400)
        .contentType(PROBLEM)
        .body("detail", containsString("at fallbackModels[0]: null is not allowed in a list"));
    assertThat(TestDb.count(dataSource, "select count(*) from workflow_definition"))
        .isEqualTo(stored);
  }
}
