package dev.atelier.context.rest;

import static dev.atelier.context.rest.Artifacts.assertProblem;
import static dev.atelier.context.rest.Artifacts.base;
import static dev.atelier.context.rest.Artifacts.get;
import static dev.atelier.context.rest.Artifacts.markdown;
import static dev.atelier.context.rest.Artifacts.post;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** PUT with If-Match / If-None-Match, and ETags on reads and writes. */
@QuarkusTest
class ConditionalWriteTest {

  private static final int WRITERS = 10;

  private final UUID workflow = UUID.randomUUID();
  private final ExecutorService pool = Executors.newFixedThreadPool(WRITERS);

  @AfterEach
  void stopPool() {
    pool.shutdownNow();
  }

  static Response put(UUID workflowId, String name, Map<String, String> headers, String text) {
    return given()
        .contentType(ContentType.JSON)
        .headers(headers)
        .body(Map.of("kind", "markdown", "content", text))
        .when()
        .put(base(workflowId) + "/" + name)
        .andReturn();
  }

  @Test
  void putWithoutPreconditionIs428AndStoresNothing() {
    Response r = put(workflow, "plan", Map.of("Idempotency-Key", "k1"), "text");

    assertProblem(r, 428, "precondition-required");
    assertThat(get(base(workflow) + "/plan").statusCode()).isEqualTo(404);
  }

  @Test
  void createsWithIfNoneMatchThenWritesAgainstTheETagItRead() {
    Response created =
        put(workflow, "plan", Map.of("Idempotency-Key", "k1", "If-None-Match", "*"), "first");
    assertThat(created.statusCode()).as(created.asString()).isEqualTo(201);
    assertThat(created.header("ETag")).isEqualTo("\"1\"");
    assertThat(created.jsonPath().getString("ref")).isEqualTo("plan@1");

    Response read = get(base(workflow) + "/plan");
    assertThat(read.header("ETag")).isEqualTo("\"1\"");

    Response second =
        put(
            workflow,
            "plan",
            Map.of("Idempotency-Key", "k2", "If-Match", read.header("ETag")),
            "second");
    assertThat(second.statusCode()).as(second.asString()).isEqualTo(201);
    assertThat(second.header("ETag")).isEqualTo("\"2\"");
    assertThat(get(base(workflow) + "/plan/versions/2").header("ETag")).isEqualTo("\"2\"");
    assertThat(get(base(workflow) + "/plan").jsonPath().getString("content")).isEqualTo("second");

    // If-Match: * needs an existing artifact; If-None-Match: * needs none.
    assertThat(
            put(workflow, "plan", Map.of("Idempotency-Key", "k3", "If-Match", "*"), "third")
                .statusCode())
        .isEqualTo(201);
    assertProblem(
        put(workflow, "plan", Map.of("Idempotency-Key", "k4", "If-None-Match", "*"), "x"),
        412,
        "precondition-failed");
    assertProblem(
        put(workflow, "other", Map.of("Idempotency-Key", "k5", "If-Match", "*"), "x"),
        412,
        "precondition-failed");
    assertThat(get(base(workflow) + "/plan/versions").jsonPath().getList("ref"))
        .containsExactly("plan@1", "plan@2", "plan@3");
    assertThat(get(base(workflow) + "/other").statusCode()).isEqualTo(404);
  }

  @Test
  void staleIfMatchIs412AndAppendsNothing() {
    post(workflow, "w1", markdown("plan", "one"));
    post(workflow, "w2", markdown("plan", "two"));

    Response stale =
        put(workflow, "plan", Map.of("Idempotency-Key", "k", "If-Match", "\"1\""), "x");

    assertProblem(stale, 412, "precondition-failed");
    assertThat(stale.jsonPath().getString("detail")).contains("version 1").contains("version 2");
    assertThat(get(base(workflow) + "/plan/versions").jsonPath().getList("ref"))
        .containsExactly("plan@1", "plan@2");
    // The failed write rolled its version counter back: the next write gets 3, no gap.
    assertThat(
            put(workflow, "plan", Map.of("Idempotency-Key", "k", "If-Match", "\"2\""), "three")
                .jsonPath()
                .getString("ref"))
        .isEqualTo("plan@3");
  }

  @Test
  void retryOfASuccessfulPutIsAReplayNotAConflict() {
    post(workflow, "w1", markdown("plan", "one"));
    Map<String, String> headers = Map.of("Idempotency-Key", "step:1:plan", "If-Match", "\"1\"");

    Response first = put(workflow, "plan", headers, "two");
    Response retry = put(workflow, "plan", headers, "two");

    assertThat(first.statusCode()).isEqualTo(201);
    assertThat(retry.statusCode()).as(retry.asString()).isEqualTo(200);
    assertThat(retry.header(ArtifactResource.REPLAYED)).isEqualTo("true");
    assertThat(retry.header("ETag")).isEqualTo("\"2\"");
    assertThat(get(base(workflow) + "/plan/versions").jsonPath().getList("ref"))
        .containsExactly("plan@1", "plan@2");
  }

  @Test
  void ofWritersRacingWithTheSameIfMatchExactlyOneWinsAndTheOthersGet412() {
    post(workflow, "w1", markdown("plan", "base"));
    CountDownLatch start = new CountDownLatch(1);
    List<CompletableFuture<Response>> futures =
        IntStream.range(0, WRITERS)
            .mapToObj(
                i ->
                    CompletableFuture.supplyAsync(
                        () -> {
                          try {
                            start.await();
                          } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            throw new IllegalStateException(e);
                          }
                          return put(
                              workflow,
                              "plan",
                              Map.of("Idempotency-Key", "writer-" + i, "If-Match", "\"1\""),
                              "writer " + i);
                        },
                        pool))
            .toList();
    start.countDown();
    List<Response> responses = futures.stream().map(CompletableFuture::join).toList();

    List<Response> winners = responses.stream().filter(r -> r.statusCode() == 201).toList();
    assertThat(winners).hasSize(1);
    assertThat(responses)
        .filteredOn(r -> r.statusCode() != 201)
        .hasSize(WRITERS - 1)
        .allSatisfy(r -> assertProblem(r, 412, "precondition-failed"));
    Response latest = get(base(workflow) + "/plan");
    assertThat(latest.jsonPath().getInt("version")).isEqualTo(2);
    assertThat(latest.jsonPath().getString("content"))
        .isEqualTo(winners.get(0).jsonPath().getString("content"));
  }

  @Test
  void malformedPreconditionOrNameIs400() {
    assertProblem(
        put(workflow, "plan", Map.of("Idempotency-Key", "k", "If-Match", "W/\"1\""), "x"),
        400,
        "invalid-if-match");
    assertProblem(
        put(workflow, "Bad..Name", Map.of("Idempotency-Key", "k", "If-None-Match", "*"), "x"),
        400,
        "invalid-name");
    assertProblem(
        put(workflow, "plan", Map.of("If-None-Match", "*"), "x"), 400, "missing-idempotency-key");
    assertThat(get(base(workflow)).statusCode()).isEqualTo(404);
  }
}
