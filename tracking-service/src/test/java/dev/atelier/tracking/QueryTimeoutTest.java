package dev.atelier.tracking;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.RestAssured;
import io.restassured.config.HttpClientConfig;
import jakarta.inject.Inject;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

/**
 * A report or a page of calls that runs past {@code tracking.query.timeout} is cancelled and
 * answered 503: it shares the connection pool with ingest, which it must not hold for minutes.
 */
@QuarkusTest
@TestProfile(QueryTimeoutTest.OneSecond.class)
class QueryTimeoutTest {

  public static class OneSecond implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      return Map.of("tracking.query.timeout", "PT1S");
    }
  }

  /** A report start off the hour, within retention: only the raw rows can answer it. */
  private static final String INSIDE_AN_HOUR =
      Instant.now()
          .minus(Duration.ofDays(1))
          .truncatedTo(ChronoUnit.HOURS)
          .plusSeconds(1)
          .toString();

  @Inject DataSource dataSource;

  @Test
  void aQueryPastTheTimeoutIsCancelledAnd503() throws Exception {
    // Another transaction holds the ledger exclusively: every read of it waits, as a long scan
    // would run, until the timeout cancels it.
    try (Connection holder = dataSource.getConnection();
        Statement st = holder.createStatement()) {
      holder.setAutoCommit(false);
      st.execute("lock table llm_call in access exclusive mode");
      try {
        for (String path :
            new String[] {
              "/api/v1/usage?groupBy=model&from=" + INSIDE_AN_HOUR, "/api/v1/llm-calls?team=nobody"
            }) {
          given()
              // Without the timeout the request waits for the lock: fail, not hang.
              .config(
                  RestAssured.config()
                      .httpClient(
                          HttpClientConfig.httpClientConfig()
                              .setParam("http.socket.timeout", 15_000)))
              .get(path)
              .then()
              .statusCode(503)
              .contentType("application/problem+json")
              .body("type", containsString("query-timeout"))
              .body("detail", containsString("ran past 1 s"));
        }
      } finally {
        holder.rollback();
      }
    }
    // Once the ledger is free, the same report answers.
    given().get("/api/v1/usage?groupBy=model&from=" + INSIDE_AN_HOUR).then().statusCode(200);
  }
}
