package dev.atelier.context.rest;

import static dev.atelier.context.rest.Artifacts.assertProblem;
import static dev.atelier.context.rest.Artifacts.base;
import static dev.atelier.context.rest.Artifacts.get;
import static dev.atelier.context.rest.Artifacts.markdown;
import static dev.atelier.context.rest.Artifacts.post;
import static dev.atelier.context.rest.Artifacts.postTo;
import static org.assertj.core.api.Assertions.assertThat;

import dev.atelier.context.model.ArtifactWrites;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import io.restassured.response.Response;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

@QuarkusTest
class ArtifactBatchTest {

  private static final int CONTENT_LIMIT = 1024 * 1024;

  private final UUID workflow = UUID.randomUUID();

  private String reads() {
    return "/api/v1/workflows/" + workflow + "/artifact-reads";
  }

  private String writes() {
    return "/api/v1/workflows/" + workflow + "/artifact-writes";
  }

  private static Map<String, Object> json(String name, Object content) {
    return Map.of("name", name, "kind", "json", "content", content);
  }

  @Test
  void aBatchReadAnswersTheRefsInOrderAndWhatEachKnownKeyWrote() {
    post(workflow, "s-1:1:analysis", json("analysis", Map.of("summary", "first")));
    post(workflow, "s-2:1:analysis", json("analysis", Map.of("summary", "second")));
    post(workflow, "s-3:1:notes", markdown("notes", "# Notes"));

    Response read =
        postTo(
            reads(),
            null,
            Map.of(
                "refs", List.of("notes@1", "analysis@2", "analysis@1"),
                "idempotencyKeys", List.of("s-2:1:analysis", "s-9:1:analysis")));

    assertThat(read.statusCode()).as(read.asString()).isEqualTo(200);
    assertThat(read.jsonPath().getList("artifacts.ref"))
        .containsExactly("notes@1", "analysis@2", "analysis@1");
    assertThat(read.jsonPath().getString("artifacts[0].content")).isEqualTo("# Notes");
    assertThat(read.jsonPath().getString("artifacts[1].content.summary")).isEqualTo("second");
    assertThat(read.jsonPath().getString("artifacts[2].content.summary")).isEqualTo("first");
    Map<String, Object> written = read.jsonPath().getMap("written");
    assertThat(written).containsOnlyKeys("s-2:1:analysis");
    assertThat(read.jsonPath().getString("written.'s-2:1:analysis'.ref")).isEqualTo("analysis@2");
    assertThat(read.jsonPath().getString("written.'s-2:1:analysis'.content.summary"))
        .isEqualTo("second");
  }

  @Test
  void aBatchReadOfNothingKnownIsEmptyNotAnError() {
    Response read = postTo(reads(), null, Map.of("idempotencyKeys", List.of("s-1:1:design")));

    assertThat(read.statusCode()).as(read.asString()).isEqualTo(200);
    assertThat(read.jsonPath().getList("artifacts")).isEmpty();
    assertThat(read.jsonPath().getMap("written")).isEmpty();
  }

  @Test
  void aMissingRefIsNamedInA404() {
    post(workflow, "s-1:1:analysis", json("analysis", Map.of("summary", "x")));

    Response read = postTo(reads(), null, Map.of("refs", List.of("analysis@1", "analysis@7")));

    assertProblem(read, 404, "not-found");
    assertThat(read.jsonPath().getString("detail")).contains("analysis@7");
  }

  @Test
  void badReadRequestsAreProblems() {
    Response noVersion = postTo(reads(), null, Map.of("refs", List.of("a@1", "no-version")));
    assertProblem(noVersion, 400, "validation");
    assertThat(noVersion.jsonPath().getString("detail")).contains("must be name@version");
    assertProblem(postTo(reads(), null, Map.of("refs", List.of("a@0"))), 400, "validation");
    assertProblem(postTo(reads(), null, Map.of("refs", List.of("A b@1"))), 400, "validation");
    List<String> tooMany = IntStream.rangeClosed(1, 51).mapToObj(i -> "a@" + i).toList();
    assertProblem(postTo(reads(), null, Map.of("refs", tooMany)), 400, "validation");
    assertProblem(
        postTo(reads(), null, Map.of("idempotencyKeys", List.of(" "))), 400, "validation");
    assertProblem(postTo(reads(), null, "{\"refs\": ["), 400, "malformed-body");
    // Half a UTF-16 pair could never be sent as an Idempotency-Key header; the driver would send
    // it as '?' and match a write keyed '?'.
    Response halfPair = postTo(reads(), null, "{\"idempotencyKeys\": [\"k\\ud800\"]}");
    assertProblem(halfPair, 400, "validation");
    assertThat(halfPair.jsonPath().getString("detail")).contains("unpaired surrogate");
  }

  @Test
  void aBatchWriteStoresEachArtifactUnderItsOwnKeyAndReplays() {
    Map<String, Object> body =
        Map.of(
            "artifacts",
            List.of(json("design", Map.of("summary", "d")), markdown("design.md", "# Design")));

    Response first = postTo(writes(), "s-1:1", body);
    assertThat(first.statusCode()).as(first.asString()).isEqualTo(201);
    assertThat(first.jsonPath().getList("writes.version.ref"))
        .containsExactly("design@1", "design.md@1");
    assertThat(first.jsonPath().getList("writes.created")).containsExactly(true, true);
    // The writer has the content: the answer is the versions' metadata, sha256 naming the content.
    assertThat(first.asString()).doesNotContain("\"content\"").doesNotContain("# Design");
    assertThat(first.jsonPath().getList("writes.version.sha256", String.class))
        .allSatisfy(sha -> assertThat(sha).hasSize(64));

    Response again = postTo(writes(), "s-1:1", body);
    assertThat(again.statusCode()).as(again.asString()).isEqualTo(200);
    assertThat(again.header(ArtifactResource.REPLAYED)).isEqualTo("true");
    assertThat(again.jsonPath().getList("writes.version.ref"))
        .containsExactly("design@1", "design.md@1");
    assertThat(again.jsonPath().getList("writes.created")).containsExactly(false, false);

    // Each artifact's key is <key>:<name>, the key a single write of it would use.
    Response single = post(workflow, "s-1:1:design.md", markdown("design.md", "# Design"));
    assertThat(single.statusCode()).as(single.asString()).isEqualTo(200);
    assertThat(single.jsonPath().getString("ref")).isEqualTo("design.md@1");
    assertThat(get(base(workflow) + "/design/versions").jsonPath().getList("ref"))
        .containsExactly("design@1");
  }

  @Test
  void aBatchAfterASingleWriteOfOneOfItsKeysStoresOnlyTheRest() {
    post(workflow, "s-1:1:design", json("design", Map.of("summary", "d")));

    Response batch =
        postTo(
            writes(),
            "s-1:1",
            Map.of(
                "artifacts",
                List.of(
                    json("design", Map.of("summary", "d")), markdown("design.md", "# Design"))));

    assertThat(batch.statusCode()).as(batch.asString()).isEqualTo(201);
    assertThat(batch.jsonPath().getList("writes.created")).containsExactly(false, true);
    assertThat(batch.jsonPath().getList("writes.version.ref"))
        .containsExactly("design@1", "design.md@1");
  }

  @Test
  void aRefusedArtifactStoresNothingOfItsBatch() {
    post(workflow, "s-1:1:design", json("design", Map.of("summary", "first answer")));

    Response batch =
        postTo(
            writes(),
            "s-1:1",
            Map.of(
                "artifacts",
                List.of(
                    markdown("design.md", "# Design"),
                    json("design", Map.of("summary", "another answer")))));

    assertProblem(batch, 422, "idempotency-key-reuse");
    assertThat(get(base(workflow) + "/design.md").statusCode()).isEqualTo(404);
    assertThat(get(base(workflow) + "/design/versions").jsonPath().getList("ref"))
        .containsExactly("design@1");
  }

  @Test
  void theLargestValidBatchFitsTheBodyLimitAndReadsBackWithinTheReadLimit() {
    // Ten artifacts at the content limit, half their characters escaped in JSON (\" and \n):
    // the body is 1.5 x 10 MiB.
    String content = "a\"b\n".repeat(CONTENT_LIMIT / 4);
    List<Map<String, Object>> artifacts =
        IntStream.range(0, ArtifactWrites.MAX_ITEMS)
            .mapToObj(i -> markdown("big-" + i, content))
            .toList();

    Response batch = postTo(writes(), "big:1", Map.of("artifacts", artifacts));

    assertThat(batch.statusCode()).as(batch.asString()).isEqualTo(201);
    assertThat(batch.jsonPath().getList("writes.version.sizeBytes", Integer.class))
        .hasSize(ArtifactWrites.MAX_ITEMS)
        .containsOnly(CONTENT_LIMIT);

    // One batch read returns at most 8 MiB of content: eight of them, not nine, and the versions
    // read by key count too.
    List<String> eight = IntStream.range(0, 8).mapToObj(i -> "big-" + i + "@1").toList();
    Response read = postTo(reads(), null, Map.of("refs", eight));
    assertThat(read.statusCode()).as("status").isEqualTo(200);
    assertThat(read.jsonPath().getList("artifacts.sizeBytes", Integer.class))
        .hasSize(8)
        .containsOnly(CONTENT_LIMIT);
    List<String> nine = IntStream.range(0, 9).mapToObj(i -> "big-" + i + "@1").toList();
    Response tooMuch = postTo(reads(), null, Map.of("refs", nine));
    assertProblem(tooMuch, 413, "read-too-large");
    assertThat(tooMuch.jsonPath().getString("detail"))
        .contains(String.valueOf(9L * CONTENT_LIMIT), "8388608", "ARTIFACT_MAX_READ_BYTES");
    assertProblem(
        postTo(
            reads(),
            null,
            Map.of(
                "refs",
                eight.subList(0, 7),
                "idempotencyKeys",
                List.of("big:1:big-8", "big:1:big-9"))),
        413,
        "read-too-large");
    assertProblem(
        postTo(reads(), null, Map.of("refs", List.of("big-0@1", "big-0@1"))), 400, "duplicate-ref");
    assertProblem(
        postTo(reads(), null, Map.of("idempotencyKeys", List.of("big:1:big-0", "big:1:big-0"))),
        400,
        "duplicate-key");
  }

  @Test
  void aBodyOverTheLimitIsAProblemNamingTheLimit() throws Exception {
    long limit = 16L * 1024 * 1024;
    try (Socket socket = new Socket("localhost", RestAssured.port)) {
      socket.setSoTimeout(30_000);
      // Only the head: the declared length alone must be refused, before any body is read.
      socket
          .getOutputStream()
          .write(
              ("POST "
                      + writes()
                      + " HTTP/1.1\r\nHost: localhost\r\nIdempotency-Key: k\r\n"
                      + "Content-Type: application/json\r\nContent-Length: "
                      + (limit + 1)
                      + "\r\n\r\n")
                  .getBytes(StandardCharsets.US_ASCII));
      String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);

      assertThat(answer).startsWith("HTTP/1.1 413").contains("application/problem+json");
      assertThat(answer)
          .contains("https://atelier.dev/problems/request-too-large")
          .contains("HTTP_MAX_BODY_SIZE")
          .contains(String.valueOf(limit + 1))
          .contains(String.valueOf(limit));
    }
    assertProblem(get(base(workflow)), 404, "not-found");
  }

  @Test
  void badWriteRequestsAreProblemsAndStoreNothing() {
    Map<String, Object> good = markdown("doc", "text");
    assertProblem(
        postTo(writes(), null, Map.of("artifacts", List.of(good))), 400, "missing-idempotency-key");
    assertProblem(postTo(writes(), "k", Map.of("artifacts", List.of())), 400, "validation");
    assertProblem(postTo(writes(), "k", Map.of()), 400, "validation");
    assertProblem(
        postTo(writes(), "k", Map.of("artifacts", Collections.nCopies(11, good))),
        400,
        "validation");
    assertProblem(
        postTo(writes(), "k", Map.of("artifacts", List.of(good, markdown("Bad Name", "x")))),
        400,
        "validation");
    assertProblem(
        postTo(writes(), "k", Map.of("artifacts", List.of(good, markdown("doc", "other")))),
        400,
        "duplicate-name");
    assertProblem(
        postTo(writes(), "k", Map.of("artifacts", List.of(good, json("data", "a string")))),
        400,
        "invalid-content");
    Response longKey = postTo(writes(), "k".repeat(254), Map.of("artifacts", List.of(good)));
    assertProblem(longKey, 400, "invalid-idempotency-key");
    // The header alone fits; joined with the name it does not, and the detail says which name.
    assertThat(longKey.jsonPath().getString("detail"))
        .contains("artifact name 'doc'")
        .contains("255");
    assertProblem(get(base(workflow)), 404, "not-found");
  }
}
