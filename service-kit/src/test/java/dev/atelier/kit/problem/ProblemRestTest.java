package dev.atelier.kit.problem;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.RestAssured;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.UUID;
import org.assertj.core.api.AbstractStringAssert;
import org.junit.jupiter.api.Test;

/** The kit's problem mappers and query parameter converters inside a running Quarkus REST. */
@QuarkusTest
@TestProfile(ProblemRestTest.NoInfrastructure.class)
class ProblemRestTest {

  private static final String PROBLEM = Problem.MEDIA_TYPE;

  /** The body limit of this test, small enough to pass quickly. */
  private static final int LIMIT = 64 * 1024;

  /** Only REST: no database, no broker, no trace export. */
  public static class NoInfrastructure implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      return Map.of(
          "quarkus.devservices.enabled", "false",
          "quarkus.http.test-port", "0",
          "quarkus.arc.exclude-types", "dev.atelier.kit.db.DatabaseBootstrap",
          "quarkus.datasource.health.enabled", "false",
          "quarkus.otel.sdk.disabled", "true",
          "quarkus.http.limits.max-body-size", LIMIT + "");
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
      if (submission.requirement() != null && submission.requirement().indexOf('\0') >= 0) {
        throw refusedByPostgres();
      }
      return submission.requirement();
    }

    @GET
    @Path("named/{name}")
    public String named(@PathParam("name") String name) {
      if (name.indexOf('\0') >= 0) {
        // As PostgreSQL answers a lookup whose parameter holds a NUL.
        throw refusedByPostgres();
      }
      return name;
    }

    private static RuntimeException refusedByPostgres() {
      return new IllegalStateException(
          "cannot read", new java.sql.SQLException("invalid byte sequence 0x00", "22021"));
    }
  }

  @Test
  void aNulTheDatabaseRefusesIsA400ThatSaysWhetherAnythingWasToBeStored() {
    given().get("/kit-test/named/ab").then().statusCode(200).body(equalTo("ab"));
    given()
        .urlEncodingEnabled(false)
        .get("/kit-test/named/a%00b")
        .then()
        .statusCode(400)
        .contentType(PROBLEM)
        .body("type", equalTo(Problem.TYPE_BASE + "invalid-parameter"))
        .body("detail", containsString("no stored value holds"));
    given()
        .contentType("application/json")
        .body("{\"requirement\": \"a\\u0000b\"}")
        .post("/kit-test/items")
        .then()
        .statusCode(400)
        .contentType(PROBLEM)
        .body("type", equalTo(Problem.TYPE_BASE + "unstorable-text"))
        .body("detail", containsString("cannot store"));
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
  void aMalformedPercentEscapeIsA400NotA500() throws IOException {
    // Sent raw: HTTP clients refuse to send such a URI, proxies and scanners do not. Quarkus checks
    // every request's URI before any route (java.net.URI) and answers a bare 400 without a body:
    // the one client error that is not problem+json (vertx.disableURIValidation would turn that
    // check off for every kind of URI, a wider change than this is worth).
    for (String query : new String[] {"limit=%zz", "x=%zz", "x=%", "%zz=1"}) {
      String answer =
          exchange(
              "GET /kit-test/items?"
                  + query
                  + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
              null);
      assertThat(answer).as(query).startsWith("HTTP/1.1 400");
    }
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

  @Test
  void aBodyDeclaredOverTheLimitIsA413NamingItBeforeAnyOfItIsRead() throws IOException {
    // Only the head: the declared length alone must be refused.
    String answer = exchange(head("Content-Length: " + (LIMIT + 1)), null);

    assertTooLarge(answer).contains("the request body is " + (LIMIT + 1) + " bytes");
  }

  @Test
  void aChunkedBodyOverTheLimitIsA413NamingIt() throws IOException {
    // No length to judge up front: the limit is found while the body arrives.
    String answer = exchange(head("Transfer-Encoding: chunked"), chunked(LIMIT + 1));

    assertTooLarge(answer).contains("the request body is over the limit");
  }

  @Test
  void aChunkedBodyWithinTheLimitIsRead() throws IOException {
    String json = "{\"requirement\": \"" + "x".repeat(LIMIT - 100) + "\"}";
    String chunks = Integer.toHexString(json.length()) + "\r\n" + json + "\r\n0\r\n\r\n";

    String answer =
        exchange(head("Transfer-Encoding: chunked"), chunks.getBytes(StandardCharsets.US_ASCII));

    assertThat(answer).startsWith("HTTP/1.1 200").endsWith("x".repeat(LIMIT - 100));
  }

  private static String head(String framing) {
    return "POST /kit-test/items HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
        + "Content-Type: application/json\r\n"
        + framing
        + "\r\n\r\n";
  }

  /** {@code size} bytes of JSON whitespace in chunks of 8 KiB, with the last chunk. */
  private static byte[] chunked(int size) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] chunk = new byte[8 * 1024];
    Arrays.fill(chunk, (byte) ' ');
    for (int left = size; left > 0; left -= chunk.length) {
      int n = Math.min(left, chunk.length);
      out.writeBytes((Integer.toHexString(n) + "\r\n").getBytes(StandardCharsets.US_ASCII));
      out.write(chunk, 0, n);
      out.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
    }
    out.writeBytes("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    return out.toByteArray();
  }

  /** Sends a raw request and reads the answer until the server closes the connection. */
  private static String exchange(String head, byte[] body) throws IOException {
    try (Socket socket = new Socket("localhost", RestAssured.port)) {
      socket.setSoTimeout(30_000);
      OutputStream out = socket.getOutputStream();
      out.write(head.getBytes(StandardCharsets.US_ASCII));
      if (body != null) {
        try {
          out.write(body);
          out.flush();
        } catch (SocketException closedWhileSending) {
          // Answered and closed before the whole body was sent: the answer is still readable.
        }
      }
      return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  private static AbstractStringAssert<?> assertTooLarge(String answer) {
    return assertThat(answer)
        .startsWith("HTTP/1.1 413")
        .containsIgnoringCase("content-type: " + PROBLEM)
        .contains(Problem.TYPE_BASE + "request-too-large")
        .contains("HTTP_MAX_BODY_SIZE")
        .contains("is " + LIMIT + " bytes");
  }
}
