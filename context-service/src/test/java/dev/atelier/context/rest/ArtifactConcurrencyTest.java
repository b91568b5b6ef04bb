package dev.atelier.context.rest;

import static dev.atelier.context.rest.Artifacts.base;
import static dev.atelier.context.rest.Artifacts.get;
import static dev.atelier.context.rest.Artifacts.markdown;
import static dev.atelier.context.rest.Artifacts.post;
import static dev.atelier.context.rest.Artifacts.postTo;
import static org.assertj.core.api.Assertions.assertThat;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.IntFunction;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

@QuarkusTest
class ArtifactConcurrencyTest {

  private static final int WRITERS = 20;

  private final UUID workflow = UUID.randomUUID();
  private final ExecutorService pool = Executors.newFixedThreadPool(WRITERS);

  @AfterEach
  void stopPool() {
    pool.shutdownNow();
  }

  @Test
  void parallelWritesWithDistinctKeysGetVersionsOneToTwentyWithoutGapsOrDuplicates() {
    List<Response> responses =
        all(i -> post(workflow, "step-" + i + ":1:code", markdown("code", "writer " + i)));

    assertThat(responses).allSatisfy(r -> assertThat(r.statusCode()).isEqualTo(201));
    List<Integer> versions = responses.stream().map(r -> r.jsonPath().getInt("version")).toList();
    assertThat(versions)
        .containsExactlyInAnyOrderElementsOf(IntStream.rangeClosed(1, WRITERS).boxed().toList());

    Response stored = get(base(workflow) + "/code/versions");
    assertThat(stored.jsonPath().getList("version", Integer.class))
        .containsExactlyElementsOf(IntStream.rangeClosed(1, WRITERS).boxed().toList());
    // Each response describes the row actually stored under its version.
    for (Response r : responses) {
      String content = r.jsonPath().getString("content");
      assertThat(
              get(base(workflow) + "/code/versions/" + r.jsonPath().getInt("version"))
                  .jsonPath()
                  .getString("content"))
          .isEqualTo(content);
    }
    assertThat(get(base(workflow) + "/code").jsonPath().getInt("version")).isEqualTo(WRITERS);
  }

  @Test
  void parallelRetriesOfOneWriteCreateExactlyOneVersion() {
    List<Response> responses =
        all(i -> post(workflow, "step-x:1:tests", markdown("tests", "the same body")));

    assertThat(responses).allSatisfy(r -> assertThat(r.statusCode()).isIn(200, 201));
    assertThat(responses).filteredOn(r -> r.statusCode() == 201).hasSize(1);
    assertThat(responses)
        .allSatisfy(r -> assertThat(r.jsonPath().getString("ref")).isEqualTo("tests@1"));
    assertThat(responses.stream().map(r -> r.jsonPath().getString("createdAt")).distinct())
        .hasSize(1);
    assertThat(get(base(workflow) + "/tests/versions").jsonPath().getList("ref"))
        .containsExactly("tests@1");
  }

  @Test
  void parallelBatchesOfTheSameArtifactsInEitherOrderNumberEachArtifactWithoutGaps() {
    // Half the batches list the artifacts one way round, half the other; names are locked in one
    // order whatever the order given, so none deadlocks and each artifact gets versions 1..20.
    List<Response> responses =
        all(
            i -> {
              List<Object> artifacts =
                  new ArrayList<>(
                      List.of(
                          markdown("plan", "plan by " + i),
                          markdown("notes", "notes by " + i),
                          markdown("risks", "risks by " + i)));
              if (i % 2 == 1) {
                Collections.reverse(artifacts);
              }
              return postTo(
                  "/api/v1/workflows/" + workflow + "/artifact-writes",
                  "batch-" + i + ":1",
                  Map.of("artifacts", artifacts));
            });

    assertThat(responses)
        .allSatisfy(r -> assertThat(r.statusCode()).as(r.asString()).isEqualTo(201));
    for (String name : List.of("plan", "notes", "risks")) {
      assertThat(
              get(base(workflow) + "/" + name + "/versions")
                  .jsonPath()
                  .getList("version", Integer.class))
          .as(name)
          .containsExactlyElementsOf(IntStream.rangeClosed(1, WRITERS).boxed().toList());
    }
    // Within one batch the three artifacts were stored together: each response names, for every
    // artifact, the version whose content (its sha256) is that batch's.
    for (Response r : responses) {
      List<String> refs = r.jsonPath().getList("writes.version.ref");
      List<String> contents = r.jsonPath().getList("writes.version.sha256");
      for (int k = 0; k < refs.size(); k++) {
        String[] ref = refs.get(k).split("@");
        assertThat(
                get(base(workflow) + "/" + ref[0] + "/versions/" + ref[1])
                    .jsonPath()
                    .getString("sha256"))
            .isEqualTo(contents.get(k));
      }
    }
  }

  /** Runs {@code WRITERS} calls released together, and returns their responses. */
  private List<Response> all(IntFunction<Response> call) {
    CountDownLatch start = new CountDownLatch(1);
    List<CompletableFuture<Response>> futures =
        IntStream.rangeClosed(1, WRITERS)
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
                          return call.apply(i);
                        },
                        pool))
            .toList();
    start.countDown();
    return futures.stream().map(CompletableFuture::join).toList();
  }
}
