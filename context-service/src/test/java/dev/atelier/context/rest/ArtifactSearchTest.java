package dev.atelier.context.rest;

import static dev.atelier.context.rest.Artifacts.assertProblem;
import static dev.atelier.context.rest.Artifacts.markdown;
import static dev.atelier.context.rest.Artifacts.post;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

@QuarkusTest
class ArtifactSearchTest {

  private static final String SEARCH = "/api/v1/artifacts/search";

  private final UUID workflow = UUID.randomUUID();

  /** A word no other test writes, so results are this test's own. */
  private final String token = "tok" + UUID.randomUUID().toString().replace("-", "");

  private static Response search(Map<String, ?> params) {
    return given().queryParams(params).when().get(SEARCH).andReturn();
  }

  @Test
  void ranksBetterMatchesFirstWithSnippets() {
    post(
        workflow,
        "k1",
        markdown(
            "invoice-rules",
            "Every invoice is validated. An invoice total must equal the sum of its lines."));
    post(
        workflow,
        "k2",
        Map.of(
            "name",
            "architecture",
            "kind",
            "json",
            "content",
            Map.of(
                "components",
                List.of(
                    Map.of(
                        "name",
                        "ledger",
                        "responsibility",
                        "Stores accounts, payments and the occasional invoice reference.")))));
    post(workflow, "k3", markdown("review", "Nothing about billing documents here."));

    Response r = search(Map.of("q", "invoices", "workflowId", workflow));

    assertThat(r.statusCode()).as(r.asString()).isEqualTo(200);
    assertThat(r.jsonPath().getList("name")).containsExactly("invoice-rules", "architecture");
    List<Float> ranks = r.jsonPath().getList("rank", Float.class);
    assertThat(ranks.get(0)).isGreaterThan(ranks.get(1));
    assertThat(r.jsonPath().getString("[0].ref")).isEqualTo("invoice-rules@1");
    assertThat(r.jsonPath().getString("[0].snippet")).contains("<b>invoice</b>");
    assertThat(r.jsonPath().getString("[1].snippet"))
        .contains("<b>invoice</b> reference")
        .doesNotContain("responsibility"); // JSON keys are structure, not text

    assertThat(
            search(Map.of("q", "invoice", "workflowId", workflow, "limit", 1))
                .jsonPath()
                .getList("name"))
        .containsExactly("invoice-rules");
  }

  @Test
  void searchesOnlyTheLatestVersionAndAcrossWorkflowsWithoutWorkflowId() {
    UUID other = UUID.randomUUID();
    post(workflow, "v1", markdown("notes", "draft mentions " + token));
    post(workflow, "v2", markdown("notes", "final text without it"));
    post(other, "o1", markdown("design", "the " + token + " component"));
    post(workflow, "p1", markdown("plan", "plan with " + token));

    assertThat(search(Map.of("q", token)).jsonPath().getList("ref"))
        .containsExactlyInAnyOrder("design@1", "plan@1");
    assertThat(search(Map.of("q", token, "workflowId", other)).jsonPath().getList("ref"))
        .containsExactly("design@1");
    assertThat(
            search(Map.of("q", token + " -plan", "workflowId", workflow)).jsonPath().getList("ref"))
        .isEmpty();
  }

  @Test
  void contentWhoseWholeTextWouldOverflowATsvectorIsStoredAndSearchable() {
    // 16k UUIDs (640 KB): each is a hyphenated word indexed whole and in parts, ~1.6 MB of lexemes.
    List<String> ids = new ArrayList<>();
    ids.add(token);
    while (ids.size() < 16_384) {
      ids.add(UUID.randomUUID().toString());
    }
    Response uuids =
        post(workflow, "u1", Map.of("name", "fixture", "kind", "json", "content", ids));
    assertThat(uuids.statusCode()).as(uuids.asString()).isEqualTo(201);
    assertThat(uuids.jsonPath().getInt("sizeBytes")).isGreaterThan(600_000);

    // ~900 KB of distinct words, the first of them this test's token.
    StringBuilder words = new StringBuilder("start" + token);
    for (int i = 0; words.length() < 900_000; i++) {
      words.append(" w").append(Integer.toString(i, 26).replace('0', 'z'));
    }
    Response text = post(workflow, "t1", markdown("wordlist", words.toString()));
    assertThat(text.statusCode()).as(text.asString()).isEqualTo(201);

    assertThat(search(Map.of("q", token, "workflowId", workflow)).jsonPath().getList("ref"))
        .containsExactly("fixture@1");
    assertThat(
            search(Map.of("q", "start" + token, "workflowId", workflow)).jsonPath().getList("ref"))
        .containsExactly("wordlist@1");
  }

  @Test
  void snippetsAreHtmlEscapedAroundTheMatchMarkup() {
    post(
        workflow,
        "x1",
        markdown(
            "page",
            "The " + token + " <img src=x onerror=alert(1)> & \"quoted\" 'text' \u0002 " + token));

    Response r = search(Map.of("q", token, "workflowId", workflow));

    assertThat(r.statusCode()).as(r.asString()).isEqualTo(200);
    // The tag is text, escaped; the U+0002 of the content does not become markup.
    assertThat(r.jsonPath().getString("[0].snippet"))
        .isEqualTo(
            "<b>"
                + token
                + "</b> &lt;img src=x onerror=alert(1)&gt; &amp; &quot;quoted&quot; &#39;text&#39;  <b>"
                + token
                + "</b>");
  }

  @Test
  void badQueriesAre400ProblemJson() {
    assertProblem(search(Map.of()), 400, "invalid-query");
    assertProblem(search(Map.of("q", "   ")), 400, "invalid-query");
    assertProblem(search(Map.of("q", "x".repeat(501))), 400, "invalid-query");
    assertProblem(search(Map.of("q", "invoice", "limit", 101)), 400, "invalid-limit");
    assertProblem(search(Map.of("q", "invoice", "limit", 0)), 400, "invalid-limit");
    assertThat(search(Map.of("q", "invoice", "limit", 100)).statusCode()).isEqualTo(200);
  }

  @Test
  void excludedWordsAloneSearchOneWorkflowButNotEveryOne() {
    // Across every workflow they match nearly every artifact: a scan and rank of all of them.
    for (String q : List.of("-draft", "invoice or -draft", "-\"final text\"")) {
      Response r = search(Map.of("q", q));
      assertProblem(r, 400, "invalid-query");
      assertThat(r.jsonPath().getString("detail"))
          .contains("must name a word every match contains");
    }
    post(workflow, "n1", markdown("notes", "final " + token));
    post(workflow, "n2", markdown("draft", "a draft of the " + token));
    assertThat(search(Map.of("q", "-draft", "workflowId", workflow)).jsonPath().getList("ref"))
        .containsExactly("notes@1");
    // A word to find makes the exclusion fine everywhere; stop words alone find nothing.
    assertThat(search(Map.of("q", token + " -draft")).jsonPath().getList("ref"))
        .containsExactly("notes@1");
    assertThat(search(Map.of("q", "the")).jsonPath().getList("ref")).isEmpty();
  }
}
