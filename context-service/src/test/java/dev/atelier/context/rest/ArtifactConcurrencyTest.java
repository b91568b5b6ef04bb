package dev.atelier.context.rest;

import static dev.atelier.context.rest.Artifacts.base;
import static dev.atelier.context.rest.Artifacts.get;
import static dev.atelier.context.rest.Artifacts.markdown;
import static dev.atelier.context.rest.Artifacts.post;
import static org.assertj.core.api.Assertions.assertThat;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import java.util.List;
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
