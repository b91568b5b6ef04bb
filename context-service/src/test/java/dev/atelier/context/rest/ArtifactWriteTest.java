package dev.atelier.context.rest;

import static dev.atelier.context.rest.Artifacts.assertProblem;
import static dev.atelier.context.rest.Artifacts.base;
import static dev.atelier.context.rest.Artifacts.get;
import static dev.atelier.context.rest.Artifacts.markdown;
import static dev.atelier.context.rest.Artifacts.post;
import static dev.atelier.context.rest.Artifacts.sha256;
import static org.assertj.core.api.Assertions.assertThat;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

@QuarkusTest
class ArtifactWriteTest {

  private final UUID workflow = UUID.randomUUID();

  @Test
  void jsonArtifactRoundTripsWithCanonicalHashAndProducer() throws Exception {
    String body =
        """
        {"name": "analysis", "kind": "json",
         "content": {"b": 1, "a": {"d": true, "c": "x"}, "pi": 3.14159265358979323846264338327950288, "price": 1.50},
         "producer": {"stepId": "s-1", "stepKey": "analyse", "attempt": 1,
                      "agent": "business-analyst", "agentVersion": 2}}
        """;
    Response created = post(workflow, "s-1:1:analysis", body);

    assertThat(created.statusCode()).as(created.asString()).isEqualTo(201);
    assertThat(created.header("Location")).endsWith(base(workflow) + "/analysis/versions/1");
    assertThat(created.jsonPath().getString("workflowId")).isEqualTo(workflow.toString());
    assertThat(created.jsonPath().getString("ref")).isEqualTo("analysis@1");
    assertThat(created.jsonPath().getInt("version")).isEqualTo(1);
    assertThat(created.jsonPath().getString("kind")).isEqualTo("json");
    assertThat(created.jsonPath().getString("mediaType")).isEqualTo("application/json");
    assertThat(created.jsonPath().getMap("producer"))
        .containsEntry("stepId", "s-1")
        .containsEntry("agent", "business-analyst")
        .containsEntry("agentVersion", 2);
    assertThat(Instant.parse(created.jsonPath().getString("createdAt")))
        .isBefore(Instant.now().plusSeconds(5));
    // Hash and size are over compact JSON with keys sorted, numbers exactly as sent.
    String canonical =
        "{\"a\":{\"c\":\"x\",\"d\":true},\"b\":1,"
            + "\"pi\":3.14159265358979323846264338327950288,\"price\":1.50}";
    assertThat(created.jsonPath().getString("sha256")).isEqualTo(sha256(canonical));
    assertThat(created.jsonPath().getInt("sizeBytes")).isEqualTo(canonical.length());

    Response read = get(base(workflow) + "/analysis");
    assertThat(read.statusCode()).isEqualTo(200);
    assertThat(read.jsonPath().getString("ref")).isEqualTo("analysis@1");
    assertThat(read.jsonPath().getString("content.a.c")).isEqualTo("x");
    assertThat(read.jsonPath().getBoolean("content.a.d")).isTrue();
    // No digit of the content is lost through Jackson and jsonb.
    assertThat(read.asString()).contains("3.14159265358979323846264338327950288").contains("1.50");
    assertThat(read.jsonPath().getString("sha256")).isEqualTo(sha256(canonical));
    assertThat(get(base(workflow) + "/analysis/versions/1").asString()).isEqualTo(read.asString());
  }

  @Test
  void numbersWithExponentsAreHashedAsTheyReadBack() throws Exception {
    Response created =
        post(
            workflow,
            "s-1:1:exponents",
            "{\"name\":\"exponents\",\"kind\":\"json\","
                + "\"content\":{\"a\":1e5,\"b\":1.0e3,\"c\":1E-7,\"d\":-2.50e-1}}");
    assertThat(created.statusCode()).as(created.asString()).isEqualTo(201);

    // As jsonb keeps and prints them: no exponents.
    String canonical = "{\"a\":100000,\"b\":1000,\"c\":0.0000001,\"d\":-0.250}";
    assertThat(created.jsonPath().getString("sha256")).isEqualTo(sha256(canonical));
    assertThat(created.jsonPath().getInt("sizeBytes")).isEqualTo(canonical.length());
    Response read = get(base(workflow) + "/exponents");
    assertThat(read.asString()).contains("\"content\":" + canonical);
  }

  @Test
  void markdownRoundTripsAsAString() throws Exception {
    String text = "# Architecture\n\n- façade → service\n- \"quoted\" \\ backslash\n";
    Response created = post(workflow, "s-2:1:architecture", markdown("architecture", text));

    assertThat(created.statusCode()).as(created.asString()).isEqualTo(201);
    assertThat(created.jsonPath().getString("mediaType")).isEqualTo("text/markdown");
    assertThat(created.jsonPath().getInt("sizeBytes"))
        .isEqualTo(text.getBytes(StandardCharsets.UTF_8).length);
    assertThat(created.jsonPath().getString("sha256")).isEqualTo(sha256(text));
    assertThat(created.jsonPath().get("producer") == null).isTrue();

    Response read = get(base(workflow) + "/architecture/versions/1");
    assertThat(read.statusCode()).isEqualTo(200);
    assertThat(read.jsonPath().getString("content")).isEqualTo(text);
    assertThat(read.jsonPath().getString("kind")).isEqualTo("markdown");
  }

  @Test
  void everyWriteAppendsTheNextVersionAndListsShowTheLatest() {
    for (int i = 1; i <= 3; i++) {
      Response r = post(workflow, "plan:" + i, markdown("plan", "draft " + i));
      assertThat(r.statusCode()).isEqualTo(201);
      assertThat(r.jsonPath().getInt("version")).isEqualTo(i);
    }
    assertThat(
            post(workflow, "notes:1", Map.of("name", "notes", "kind", "text", "content", "n"))
                .statusCode())
        .isEqualTo(201);

    assertThat(get(base(workflow) + "/plan").jsonPath().getString("content")).isEqualTo("draft 3");
    assertThat(get(base(workflow) + "/plan/versions/2").jsonPath().getString("content"))
        .isEqualTo("draft 2");

    Response versions = get(base(workflow) + "/plan/versions");
    assertThat(versions.statusCode()).isEqualTo(200);
    assertThat(versions.jsonPath().getList("ref")).containsExactly("plan@1", "plan@2", "plan@3");
    assertThat(versions.jsonPath().getList("content")).containsOnlyNulls();

    Response latest = get(base(workflow));
    assertThat(latest.statusCode()).isEqualTo(200);
    assertThat(latest.jsonPath().getList("ref")).containsExactly("plan@3", "notes@1");
    assertThat(latest.asString()).doesNotContain("\"content\"");
  }

  @Test
  void replayWithTheSameKeyReturnsTheStoredVersionAndAppendsNothing() {
    String first =
        "{\"name\":\"stories\",\"kind\":\"json\",\"content\":{\"x\":1,\"y\":[1,2]},"
            + "\"producer\":{\"stepId\":\"s-3\",\"attempt\":1}}";
    // The same request with keys reordered and spaced: still the same write.
    String sameAgain =
        "{ \"producer\": {\"attempt\": 1, \"stepId\": \"s-3\"}, \"kind\": \"json\","
            + " \"content\": {\"y\": [1, 2], \"x\": 1}, \"name\": \"stories\" }";
    Response created = post(workflow, "s-3:1:stories", first);
    assertThat(created.statusCode()).isEqualTo(201);
    assertThat(created.header("Idempotent-Replayed")).isNull();

    Response replay = post(workflow, "s-3:1:stories", sameAgain);

    assertThat(replay.statusCode()).as(replay.asString()).isEqualTo(200);
    assertThat(replay.header("Idempotent-Replayed")).isEqualTo("true");
    assertThat(replay.asString()).isEqualTo(get(base(workflow) + "/stories").asString());
    assertThat(replay.jsonPath().getString("createdAt"))
        .isEqualTo(created.jsonPath().getString("createdAt"));
    assertThat(replay.jsonPath().getString("ref")).isEqualTo("stories@1");
    assertThat(get(base(workflow) + "/stories/versions").jsonPath().getList("version"))
        .containsExactly(1);

    // A new key is a new write.
    assertThat(post(workflow, "s-3:2:stories", first).jsonPath().getInt("version")).isEqualTo(2);
  }

  @Test
  void sameKeyWithADifferentBodyIsRefusedAndStoresNothing() {
    assertThat(post(workflow, "k-1", markdown("review", "approve")).statusCode()).isEqualTo(201);

    Response conflict = post(workflow, "k-1", markdown("review", "changes requested"));

    assertProblem(conflict, 422, "idempotency-key-reuse");
    assertThat(conflict.jsonPath().getString("detail")).contains("k-1").contains("review@1");
    List<String> contents = get(base(workflow) + "/review/versions").jsonPath().getList("ref");
    assertThat(contents).containsExactly("review@1");
    assertThat(get(base(workflow) + "/review").jsonPath().getString("content"))
        .isEqualTo("approve");
  }

  @Test
  void keysAreScopedToTheirWorkflow() {
    UUID other = UUID.randomUUID();
    assertThat(post(workflow, "shared-key", markdown("doc", "a")).statusCode()).isEqualTo(201);
    Response elsewhere = post(other, "shared-key", markdown("doc", "b"));
    assertThat(elsewhere.statusCode()).isEqualTo(201);
    assertThat(elsewhere.jsonPath().getString("workflowId")).isEqualTo(other.toString());
    assertThat(elsewhere.jsonPath().getString("ref")).isEqualTo("doc@1");
  }
}
