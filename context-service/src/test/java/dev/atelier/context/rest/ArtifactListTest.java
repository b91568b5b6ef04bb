package dev.atelier.context.rest;

import static dev.atelier.context.rest.Artifacts.assertProblem;
import static dev.atelier.context.rest.Artifacts.base;
import static dev.atelier.context.rest.Artifacts.get;
import static dev.atelier.context.rest.Artifacts.markdown;
import static dev.atelier.context.rest.Artifacts.post;
import static org.assertj.core.api.Assertions.assertThat;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The version and artifact lists come in pages, each naming the next in a Link header. */
@QuarkusTest
class ArtifactListTest {

  private static final Pattern NEXT = Pattern.compile("<([^>]+)>;\\s*rel=\"next\"");

  private final UUID workflow = UUID.randomUUID();

  /** Follows the Link headers from {@code first}; returns each page's values of {@code field}. */
  private static List<List<String>> pages(String first, String field) {
    List<List<String>> pages = new ArrayList<>();
    String next = first;
    while (next != null) {
      Response page = get(next);
      assertThat(page.statusCode()).as(page.asString()).isEqualTo(200);
      pages.add(page.jsonPath().getList(field, String.class));
      String link = page.header("Link");
      if (link == null) {
        next = null;
      } else {
        Matcher m = NEXT.matcher(link);
        assertThat(m.find()).as(link).isTrue();
        URI uri = URI.create(m.group(1));
        next = uri.getRawPath() + "?" + uri.getRawQuery();
      }
    }
    return pages;
  }

  @Test
  void versionsArePagedOldestFirst() {
    for (int i = 1; i <= 5; i++) {
      assertThat(post(workflow, "v:" + i, markdown("doc", "v" + i)).statusCode()).isEqualTo(201);
    }

    assertThat(pages(base(workflow) + "/doc/versions?limit=2", "ref"))
        .containsExactly(List.of("doc@1", "doc@2"), List.of("doc@3", "doc@4"), List.of("doc@5"));
    // Without a limit, all of them (up to 1,000) as one page, as before paging.
    assertThat(pages(base(workflow) + "/doc/versions", "ref"))
        .hasSize(1)
        .first()
        .asList()
        .hasSize(5);
    // Past the end: an empty page; of an artifact that does not exist: 404.
    Response past = get(base(workflow) + "/doc/versions?after=5");
    assertThat(past.statusCode()).isEqualTo(200);
    assertThat(past.jsonPath().getList("$")).isEmpty();
    assertProblem(get(base(workflow) + "/missing/versions?after=5"), 404, "not-found");

    assertProblem(get(base(workflow) + "/doc/versions?limit=0"), 400, "invalid-limit");
    assertProblem(get(base(workflow) + "/doc/versions?limit=1001"), 400, "invalid-limit");
    assertProblem(get(base(workflow) + "/doc/versions?after=-1"), 400, "invalid-after");
  }

  @Test
  void theLatestOfEachArtifactIsPagedInCreationOrder() {
    List<String> names = List.of("epsilon", "alpha", "delta", "beta", "gamma");
    for (String name : names) {
      assertThat(post(workflow, name + ":1", markdown(name, "first")).statusCode()).isEqualTo(201);
    }
    assertThat(post(workflow, "alpha:2", markdown("alpha", "second")).statusCode()).isEqualTo(201);

    List<List<String>> pages = pages(base(workflow) + "?limit=2", "ref");
    assertThat(pages)
        .containsExactly(
            List.of("epsilon@1", "alpha@2"), List.of("delta@1", "beta@1"), List.of("gamma@1"));

    assertProblem(get(base(workflow) + "?after=not-a-cursor"), 400, "invalid-after");
    assertProblem(get(base(workflow) + "?limit=1001"), 400, "invalid-limit");
    assertProblem(get(base(UUID.randomUUID())), 404, "not-found");
  }
}
