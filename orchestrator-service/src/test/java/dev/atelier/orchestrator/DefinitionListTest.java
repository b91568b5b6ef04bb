package dev.atelier.orchestrator;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The lists of roles and workflow definitions come a page at a time, by name. */
@QuarkusTest
class DefinitionListTest {

  private static final Pattern NEXT = Pattern.compile("<([^>]+)>; rel=\"next\"");

  private final String prefix = "list-" + UUID.randomUUID().toString().substring(0, 8);

  private static void createAgent(String name, String description) {
    given()
        .contentType("application/json")
        .body(
            Map.of(
                "name",
                name,
                "description",
                description,
                "systemPrompt",
                "You take notes.",
                "userPromptTemplate",
                "Notes on: {{requirement}}",
                "outputArtifact",
                name + "-notes",
                "outputSchema",
                Map.of("type", "object")))
        .post("/api/v1/agents")
        .then()
        .statusCode(201);
  }

  /** The next page's address, from the Link header; null on the last page. */
  private static String next(Response page) {
    String link = page.header("Link");
    if (link == null) {
      return null;
    }
    Matcher m = NEXT.matcher(link);
    assertThat(m.matches()).as(link).isTrue();
    return m.group(1);
  }

  /** The names of this test's roles, read page by page from {@code first}. */
  private List<List<String>> pagesOfOurs(String first) {
    List<List<String>> pages = new ArrayList<>();
    String url = first;
    while (url != null) {
      Response page = given().urlEncodingEnabled(false).get(url).andReturn();
      assertThat(page.statusCode()).as(page.asString()).isEqualTo(200);
      List<String> names = page.jsonPath().getList("name");
      List<String> ours = names.stream().filter(n -> n.startsWith(prefix + "-")).toList();
      if (!ours.isEmpty()) {
        pages.add(ours);
      }
      if (ours.size() < names.size()) {
        break; // past this test's names
      }
      url = next(page);
    }
    return pages;
  }

  @Test
  void rolesArePagedByNameFollowingTheLinkHeader() {
    for (String suffix : List.of("c", "a", "e", "b", "d")) {
      createAgent(prefix + "-" + suffix, "a role to list");
    }
    given().delete("/api/v1/agents/" + prefix + "-d").then().statusCode(204);

    List<List<String>> pages = pagesOfOurs("/api/v1/agents?limit=2&after=" + prefix);

    // Name order, two a page, the retired role left out.
    assertThat(pages)
        .containsExactly(
            List.of(prefix + "-a", prefix + "-b"), List.of(prefix + "-c", prefix + "-e"));
    // Without a limit, all of them on one page.
    assertThat(pagesOfOurs("/api/v1/agents?after=" + prefix))
        .containsExactly(List.of(prefix + "-a", prefix + "-b", prefix + "-c", prefix + "-e"));
    // The first page starts at the first name.
    Response first = given().get("/api/v1/agents?limit=1").andReturn();
    assertThat(first.jsonPath().getList("name")).hasSize(1);
    assertThat(next(first)).contains("limit=1").contains("after=");
  }

  @Test
  void aPageHoldsAboutFourMillionCharactersOfDefinitionsAtMost() {
    String big = "d".repeat(1_000_000);
    for (int i = 1; i <= 5; i++) {
      createAgent(prefix + "-" + i, big);
    }

    // A million characters each: three fit under four million, the fourth would not.
    List<List<String>> pages = pagesOfOurs("/api/v1/agents?after=" + prefix);

    assertThat(pages)
        .containsExactly(
            List.of(prefix + "-1", prefix + "-2", prefix + "-3"),
            List.of(prefix + "-4", prefix + "-5"));
    for (int i = 1; i <= 5; i++) {
      given().delete("/api/v1/agents/" + prefix + "-" + i).then().statusCode(204);
    }
  }

  @Test
  void workflowDefinitionsArePagedToo() {
    Response page = given().get("/api/v1/workflow-definitions?limit=1").andReturn();
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.jsonPath().getList("name")).hasSize(1);
    String first = page.jsonPath().getString("[0].name");
    List<String> all =
        given().get("/api/v1/workflow-definitions").jsonPath().getList("name", String.class);
    assertThat(all).contains("software-delivery").startsWith(first).doesNotHaveDuplicates();
    if (all.size() > 1) {
      assertThat(next(page)).isNotNull();
      Response second = given().urlEncodingEnabled(false).get(next(page)).andReturn();
      assertThat(second.jsonPath().getList("name")).containsExactly(all.get(1));
    } else {
      assertThat(next(page)).isNull();
    }
  }

  @Test
  void aLimitOutOfRangeOrAnAfterThatIsNoNameIs400() {
    for (String path :
        List.of(
            "/api/v1/agents?limit=0",
            "/api/v1/agents?limit=1001",
            "/api/v1/workflow-definitions?limit=0")) {
      given()
          .get(path)
          .then()
          .statusCode(400)
          .contentType("application/problem+json")
          .body("type", org.hamcrest.Matchers.endsWith("invalid-limit"));
    }
    given()
        .queryParam("after", "Not A Name!")
        .get("/api/v1/agents")
        .then()
        .statusCode(400)
        .contentType("application/problem+json")
        .body("type", org.hamcrest.Matchers.endsWith("invalid-after"));
  }
}
