package dev.atelier.kit.problem;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The kit's problem mappers and query parameter converters inside a running Quarkus REST. */
@QuarkusTest
@TestProfile(ProblemRestTest.NoInfrastructure.class)
class ProblemRestTest {

  private static final String PROBLEM = Problem.MEDIA_TYPE;

  /** Only REST: no database, no broker, no trace export. */
  public static class NoInfrastructure implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      return Map.of(
          "quarkus.devservices.enabled", "false",
          "quarkus.http.test-port", "0",
          "quarkus.arc.exclude-types", "dev.atelier.kit.db.DatabaseBootstrap",
          "quarkus.datasource.health.enabled", "false",
          "quarkus.otel.sdk.disabled", "true");
    }
  }

  /** A request body, as a resource declares one. */
  public record Submission(String requirement) {}

  @Path("/kit-test")
  public static class Resource {

    @GET
    @Path("items")
    public String list(@QueryParam("limit") Integer limit, @QueryParam("after") UUID after) {
      return limit + " " + after;
    }

    @GET
    @Path("items/{id}")
    public String item(@PathParam("id") UUID id) {
      return id.toString();
    }

    @POST
    @Path("items")
    @Consumes(MediaType.APPLICATION_JSON)
    public String submit(Submission submission) {
      return submission.requirement();
    }
  }

  @Test
  void aQueryParameterThatDoesNotConvertIsA400NamingIt() {
    given()
        .get("/kit-test/items?limit=abc")
        .then()
        .statusCode(400)
        .contentType(PROBLEM)
        .body("type", equalTo(Problem.TYPE_BASE + "invalid-parameter"))
        .body("detail", equalTo("query parameter limit must be an integer, was 'abc'"));
    given()
        .get("/kit-test/items?after=x")
        .then()
        .statusCode(400)
        .contentType(PROBLEM)
        .body("detail", equalTo("query parameter after must be a UUID, was 'x'"));
    UUID after = UUID.randomUUID();
    given()
        .get("/kit-test/items?limit=5&after=" + after)
        .then()
        .statusCode(200)
        .body(equalTo("5 " + after));
    given().get("/kit-test/items").then().statusCode(200).body(equalTo("null null"));
  }

  @Test
  void aMalformedPathIdAndAMissingResourceStay404() {
    given().get("/kit-test/items/not-a-uuid").then().statusCode(404).contentType(PROBLEM);
    given()
        .get("/kit-test/nothing-here")
        .then()
        .statusCode(404)
        .contentType(PROBLEM)
        .body("detail", equalTo("no resource at /kit-test/nothing-here"));
  }

  @Test
  void aBodyOfTheWrongShapeIsNamedWithoutJavaTypes() {
    given()
        .contentType("application/json")
        .body("[]")
        .post("/kit-test/items")
        .then()
        .statusCode(400)
        .contentType(PROBLEM)
        .body("type", equalTo(Problem.TYPE_BASE + "malformed-body"))
        .body("detail", equalTo("the request body must be a JSON object"))
        .body("detail", not(containsString("dev.atelier")));
    given()
        .contentType("application/json")
        .body("{\"requirement\": tru}")
        .post("/kit-test/items")
        .then()
        .statusCode(400)
        .body("detail", containsString("the request body is not valid JSON"));
  }
}
