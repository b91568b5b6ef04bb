package dev.atelier.context.rest;

import static dev.atelier.context.rest.Artifacts.assertProblem;
import static dev.atelier.context.rest.Artifacts.base;
import static dev.atelier.context.rest.Artifacts.get;
import static dev.atelier.context.rest.Artifacts.markdown;
import static dev.atelier.context.rest.Artifacts.post;
import static org.assertj.core.api.Assertions.assertThat;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

@QuarkusTest
class ArtifactErrorsTest {

  private static final int LIMIT = 1024 * 1024;

  private final UUID workflow = UUID.randomUUID();

  /** Bad input changes nothing: the workflow still has no artifacts. */
  @AfterEach
  void nothingStored() {
    assertProblem(get(base(workflow)), 404, "not-found");
  }

  @Test
  void contentOverTheLimitIsRefusedWith413NamingTheLimit() {
    Response tooLarge = post(workflow, "big:1", markdown("big", "x".repeat(LIMIT + 1)));

    assertProblem(tooLarge, 413, "artifact-too-large");
    assertThat(tooLarge.jsonPath().getString("detail"))
        .contains(String.valueOf(LIMIT + 1))
        .contains("context.artifacts.max-content-bytes")
        .contains(String.valueOf(LIMIT));
  }

  @Test
  void numbersThatWrittenOutPassTheLimitAreRefusedBeforeTheyAreWrittenOut() {
    // 1e999 is 5 bytes sent and 1,000 characters stored: a small body of them would grow past
    // the limit (and the heap) in the service's canonical form.
    int count = LIMIT / 1000 + 1;
    String body =
        "{\"name\":\"numbers\",\"kind\":\"json\",\"content\":["
            + String.join(",", java.util.Collections.nCopies(count, "1e999"))
            + "]}";
    Response tooLarge = post(workflow, "numbers:1", body);

    assertProblem(tooLarge, 413, "artifact-too-large");
    assertThat(tooLarge.jsonPath().getString("detail"))
        .contains("numbers of " + (count * 1000L) + " characters written out in full");
  }

  @Test
  void aBodyOfMoreThanAMillionJsonTokensIsRefusedBeforeItIsBuiltAsATree() {
    // 3 MB of empty objects: as a tree, ~80 MB of heap before any size check could run.
    String body =
        "{\"name\":\"many\",\"kind\":\"json\",\"content\":["
            + String.join(",", java.util.Collections.nCopies(1_000_000, "{}"))
            + "]}";
    Response refused = post(workflow, "many:1", body);

    assertProblem(refused, 400, "malformed-body");
    assertThat(refused.jsonPath().getString("detail")).contains("count of JSON tokens");
  }

  @Test
  void anArtifactOfHalfAMillionValuesWithinTheSizeLimitIsStoredAndReadBack() {
    UUID other = UUID.randomUUID();
    int count = LIMIT / 2 - 8; // "0," each: just under 1 MiB
    String body =
        "{\"name\":\"zeros\",\"kind\":\"json\",\"content\":["
            + String.join(",", java.util.Collections.nCopies(count, "0"))
            + "]}";
    Response stored = post(other, "zeros:1", body);
    assertThat(stored.statusCode()).as(stored.asString()).isEqualTo(201);
    Response read = get(base(other) + "/zeros");
    assertThat(read.statusCode()).isEqualTo(200);
    assertThat(read.jsonPath().getList("content")).hasSize(count);
  }

  @Test
  void contentExactlyAtTheLimitIsAccepted() {
    UUID other = UUID.randomUUID();
    Response atLimit = post(other, "big:1", markdown("big", "é".repeat(LIMIT / 2)));
    assertThat(atLimit.statusCode()).as(atLimit.asString()).isEqualTo(201);
    assertThat(atLimit.jsonPath().getInt("sizeBytes")).isEqualTo(LIMIT);
  }

  @Test
  void namesOutsideThePatternAreRefused() {
    for (String name :
        new String[] {"Analysis", "-lead", "has space", "a@1", "x".repeat(101), ""}) {
      Response bad = post(workflow, "k:" + name, markdown(name, "text"));
      assertProblem(bad, 400, "validation");
      assertThat(bad.jsonPath().getString("detail")).contains("name");
    }
  }

  @Test
  void aMissingOrBlankIdempotencyKeyIsRefused() {
    assertProblem(post(workflow, null, markdown("doc", "text")), 400, "missing-idempotency-key");
    Response blank = post(workflow, " ", markdown("doc", "text"));
    assertProblem(blank, 400, "missing-idempotency-key");
    assertThat(blank.jsonPath().getString("detail")).contains("Idempotency-Key");
    assertProblem(
        post(workflow, "k".repeat(256), markdown("doc", "text")), 400, "invalid-idempotency-key");
  }

  @Test
  void malformedOrMistypedBodiesAreRefused() {
    assertProblem(post(workflow, "k:1", "{\"name\": \"doc\", \"kind\": "), 400, "malformed-body");
    assertProblem(
        post(workflow, "k:2", Map.of("name", "doc", "kind", "xml", "content", "a")),
        400,
        "malformed-body");
    assertProblem(post(workflow, "k:3", Map.of("name", "doc", "kind", "text")), 400, "validation");
    assertProblem(
        post(workflow, "k:4", Map.of("name", "doc", "kind", "json", "content", "not an object")),
        400,
        "invalid-content");
    assertProblem(
        post(workflow, "k:5", Map.of("name", "doc", "kind", "markdown", "content", Map.of())),
        400,
        "invalid-content");
    assertProblem(
        post(workflow, "k:6", "{\"name\":\"doc\",\"kind\":\"text\",\"content\":null}"),
        400,
        "invalid-content");
    assertProblem(
        post(workflow, "k:7", "{\"name\":\"doc\",\"kind\":\"text\",\"content\":\"a\\u0000b\"}"),
        400,
        "invalid-content");
    assertProblem(
        post(
            workflow,
            "k:8",
            Map.of(
                "name", "doc", "kind", "text", "content", "a", "producer", Map.of("attempt", 0))),
        400,
        "validation");
    assertProblem(
        post(
            workflow,
            "k:9",
            Map.of("name", "doc", "kind", "text", "content", "a", "mediaType", "not a type")),
        400,
        "validation");
  }

  @Test
  void halfASurrogatePairInTheMediaTypeOrTheProducerIsRefusedNotStoredAsAQuestionMark() {
    String[] bodies = {
      "{\"name\":\"doc\",\"kind\":\"text\",\"content\":\"a\","
          + "\"mediaType\":\"text/plain; x=\\ud800\"}",
      "{\"name\":\"doc\",\"kind\":\"text\",\"content\":\"a\","
          + "\"producer\":{\"stepId\":\"s\\udc00\"}}",
      "{\"name\":\"doc\",\"kind\":\"text\",\"content\":\"a\","
          + "\"producer\":{\"agent\":\"\\ud83d\"}}",
    };
    String[] named = {
      "mediaType: must be a media type",
      "stepId: must not contain an unpaired",
      "agent: must not contain an unpaired"
    };
    for (int i = 0; i < bodies.length; i++) {
      Response refused = post(workflow, "s:" + i, bodies[i]);
      assertProblem(refused, 400, "validation");
      assertThat(refused.jsonPath().getString("detail")).as(bodies[i]).contains(named[i]);
    }
    assertThat(get(base(workflow) + "/doc").statusCode()).isEqualTo(404);

    // A whole pair is a character like any other (stored elsewhere: this class's workflow stays
    // empty).
    UUID other = UUID.randomUUID();
    Response stored =
        post(
            other,
            "s:whole",
            "{\"name\":\"doc\",\"kind\":\"text\",\"content\":\"a\","
                + "\"mediaType\":\"text/plain; x=\\ud83d\\ude00\","
                + "\"producer\":{\"agent\":\"writer \\ud83d\\ude00\"}}");
    assertThat(stored.statusCode()).as(stored.asString()).isEqualTo(201);
    Response read = get(base(other) + "/doc");
    assertThat(read.jsonPath().getString("producer.agent")).isEqualTo("writer \ud83d\ude00");
    assertThat(read.jsonPath().getString("mediaType")).isEqualTo("text/plain; x=\ud83d\ude00");
  }

  @Test
  void validJsonThatPostgresqlCannotStoreIsRefusedNamingWhereItIs() {
    String[][] cases = {
      {"json", "{\"a\":[1,1e1000000]}", "$.a[1]"},
      {"json", "{\"a\":{\"tiny\":1e-20000}}", "$.a.tiny"},
      {"json", "[1e999,1e1000]", "$[1]"},
      {"text", "\"\\ud800\"", "$"},
      {"json", "{\"list\":[\"ok\",\"x\\udc00y\"]}", "$.list[1]"},
      {"json", "{\"odd key\":{\"k\\u0000\":1}}", "$[\"odd key\"]"},
    };
    for (int i = 0; i < cases.length; i++) {
      String body =
          "{\"name\":\"doc\",\"kind\":\"" + cases[i][0] + "\",\"content\":" + cases[i][1] + "}";
      Response refused = post(workflow, "u:" + i, body);
      assertThat(refused.asString()).as(body).contains("invalid-content");
      assertProblem(refused, 400, "invalid-content");
      assertThat(refused.jsonPath().getString("detail")).as(body).contains(cases[i][2]);
      // In a batch too, before anything is written.
      Response batch =
          Artifacts.postTo(
              "/api/v1/workflows/" + workflow + "/artifact-writes",
              "b:" + i,
              "{\"artifacts\":[{\"name\":\"fine\",\"kind\":\"text\",\"content\":\"ok\"},"
                  + body
                  + "]}");
      assertProblem(batch, 400, "invalid-content");
    }

    // Jackson's parser already refuses a broken surrogate pair in a key.
    assertProblem(
        post(
            workflow, "u:key", "{\"name\":\"doc\",\"kind\":\"json\",\"content\":{\"k\\ud800\":1}}"),
        400,
        "malformed-body");

    // At the bound (1000 characters written out, as reads parse them) content is stored and read.
    UUID other = UUID.randomUUID();
    String edge = "{\"name\":\"edge\",\"kind\":\"json\",\"content\":[1e999,-1e-997,0e-998]}";
    Response stored = post(other, "e:1", edge);
    assertThat(stored.statusCode()).as(stored.asString()).isEqualTo(201);
    Response read = get(base(other) + "/edge");
    assertThat(read.statusCode()).as(read.asString()).isEqualTo(200);
    assertThat(read.asString()).contains("1" + "0".repeat(999));
  }

  @Test
  void contentNestedDeeperThanAReadCanAnswerIsRefused() {
    String tooDeep = "[".repeat(257) + "]".repeat(257);
    Response refused =
        post(
            workflow,
            "deep:1",
            "{\"name\":\"deep\",\"kind\":\"json\",\"content\":" + tooDeep + "}");
    assertProblem(refused, 400, "invalid-content");
    assertThat(refused.jsonPath().getString("detail"))
        .startsWith("content at $" + "[0]".repeat(256) + " is nested deeper than 256 levels");

    // At the limit it is stored and read back, alone and in a batch read that nests it further.
    UUID other = UUID.randomUUID();
    String deepest = "[".repeat(256) + "]".repeat(256);
    Response stored =
        post(other, "deep:2", "{\"name\":\"deep\",\"kind\":\"json\",\"content\":" + deepest + "}");
    assertThat(stored.statusCode()).as(stored.asString()).isEqualTo(201);
    Response read =
        Artifacts.postTo(
            "/api/v1/workflows/" + other + "/artifact-reads",
            null,
            Map.of("refs", List.of("deep@1")));
    assertThat(read.statusCode()).as(read.asString()).isEqualTo(200);
    assertThat(read.asString()).contains(deepest);
  }

  @Test
  void unknownWorkflowsArtifactsAndVersionsAre404() {
    UUID written = UUID.randomUUID();
    assertThat(post(written, "k:1", markdown("doc", "text")).statusCode()).isEqualTo(201);

    assertProblem(get(base(written) + "/missing"), 404, "not-found");
    assertProblem(get(base(written) + "/missing/versions"), 404, "not-found");
    assertProblem(get(base(written) + "/doc/versions/2"), 404, "not-found");
    assertProblem(get(base(written) + "/doc/versions/0"), 404, "not-found");
    assertProblem(get(base(workflow) + "/doc"), 404, "not-found");
    Response unknown = get(base(workflow));
    assertProblem(unknown, 404, "not-found");
    assertThat(unknown.jsonPath().getString("detail")).contains(workflow.toString());
  }

  @Test
  void malformedPathParametersAreProblems() {
    assertProblem(get("/api/v1/workflows/not-a-uuid/artifacts"), 404, "not-found");
    assertProblem(
        Artifacts.postTo("/api/v1/workflows/123/artifacts", "k", markdown("doc", "x")),
        404,
        "not-found");
    assertProblem(get(base(workflow) + "/doc/versions/latest"), 404, "not-found");
  }
}
