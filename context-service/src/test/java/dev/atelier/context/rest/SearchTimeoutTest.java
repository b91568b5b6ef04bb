package dev.atelier.context.rest;

import static dev.atelier.context.rest.Artifacts.assertProblem;
import static dev.atelier.context.rest.Artifacts.markdown;
import static dev.atelier.context.rest.Artifacts.post;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.RestAssured;
import io.restassured.config.HttpClientConfig;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import java.sql.Connection;
import java.sql.Statement;
import java.util.UUID;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

/**
 * A search that runs past {@code context.artifacts.search-timeout} is cancelled and answered 503:
 * it holds a pooled connection that the step path's reads and writes share.
 */
@QuarkusTest
@TestProfile(SearchTimeoutTest.OneSecond.class)
class SearchTimeoutTest {

  public static class OneSecond implements QuarkusTestProfile {
    @Override
    public java.util.Map<String, String> getConfigOverrides() {
      return java.util.Map.of("context.artifacts.search-timeout", "1s");
    }
  }

  @Inject DataSource dataSource;

  @Test
  void aSearchPastTheTimeoutIsCancelledAnd503() throws Exception {
    UUID workflow = UUID.randomUUID();
    String token = "tok" + UUID.randomUUID().toString().replace("-", "");
    post(workflow, "k1", markdown("notes", "mentions " + token)).then().statusCode(201);
    String path = "/api/v1/artifacts/search?q=" + token;

    // Another transaction holds the versions exclusively: the search waits, as a long scan would
    // run, until its timeout cancels it.
    try (Connection holder = dataSource.getConnection();
        Statement st = holder.createStatement()) {
      holder.setAutoCommit(false);
      st.execute("lock table artifact_version in access exclusive mode");
      try {
        long start = System.nanoTime();
        Response r =
            given()
                // Without the timeout the request waits for the lock: fail, not hang.
                .config(
                    RestAssured.config()
                        .httpClient(
                            HttpClientConfig.httpClientConfig()
                                .setParam("http.socket.timeout", 15_000)))
                .get(path)
                .andReturn();
        assertProblem(r, 503, "query-timeout");
        assertThat(r.jsonPath().getString("detail")).contains("ran past 1 s");
        assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(10_000);
      } finally {
        holder.rollback();
      }
    }
    // Once the versions are free, the same search answers.
    Response r = given().get(path).andReturn();
    assertThat(r.statusCode()).as(r.asString()).isEqualTo(200);
    assertThat(r.jsonPath().getList("name")).containsExactly("notes");
  }
}
