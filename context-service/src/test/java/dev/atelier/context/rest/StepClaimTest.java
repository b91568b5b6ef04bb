package dev.atelier.context.rest;

import static dev.atelier.context.rest.Artifacts.assertProblem;
import static dev.atelier.context.rest.Artifacts.postTo;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import dev.atelier.context.repository.StepClaimRepository;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

/**
 * Leases on step attempts: one holder at a time, renewed by its holder, free again once released or
 * run out; taken with a batch read or on their own.
 */
@QuarkusTest
class StepClaimTest {

  private final UUID workflow = UUID.randomUUID();

  @Inject DataSource db;
  @Inject StepClaimRepository repository;

  private String claims() {
    return "/api/v1/workflows/" + workflow + "/step-claims";
  }

  private Response claim(String key, String holder, int leaseSeconds) {
    return postTo(
        claims(), null, Map.of("key", key, "holder", holder, "leaseSeconds", leaseSeconds));
  }

  private Response release(String key, String holder) {
    return given().queryParam("holder", holder).when().delete(claims() + "/" + key).andReturn();
  }

  @Test
  void oneHolderAtATimeRenewedByItselfAndFreeOnceReleased() {
    Response first = claim("step-1:1", "worker-a/1", 30);
    assertThat(first.statusCode()).as(first.asString()).isEqualTo(200);
    assertThat(first.jsonPath().getBoolean("granted")).isTrue();
    Instant until = Instant.parse(first.jsonPath().getString("expiresAt"));
    assertThat(until).isBetween(Instant.now().plusSeconds(20), Instant.now().plusSeconds(40));

    Response other = claim("step-1:1", "worker-b/7", 30);
    assertThat(other.statusCode()).isEqualTo(200);
    assertThat(other.jsonPath().getBoolean("granted")).isFalse();
    assertThat(other.jsonPath().getString("holder")).isEqualTo("worker-a/1");
    assertThat(Instant.parse(other.jsonPath().getString("expiresAt"))).isEqualTo(until);

    // Another attempt, or the same key of another workflow, is another lease.
    assertThat(claim("step-1:2", "worker-b/7", 30).jsonPath().getBoolean("granted")).isTrue();
    assertThat(
            postTo(
                    "/api/v1/workflows/" + UUID.randomUUID() + "/step-claims",
                    null,
                    Map.of("key", "step-1:1", "holder", "worker-b/7", "leaseSeconds", 30))
                .jsonPath()
                .getBoolean("granted"))
        .isTrue();

    Response renewed = claim("step-1:1", "worker-a/1", 120);
    assertThat(renewed.jsonPath().getBoolean("granted")).isTrue();
    assertThat(Instant.parse(renewed.jsonPath().getString("expiresAt"))).isAfter(until);

    // Only its holder releases it; releasing twice, or what one does not hold, changes nothing.
    assertThat(release("step-1:1", "worker-b/7").statusCode()).isEqualTo(204);
    assertThat(claim("step-1:1", "worker-b/7", 30).jsonPath().getBoolean("granted")).isFalse();
    assertThat(release("step-1:1", "worker-a/1").statusCode()).isEqualTo(204);
    assertThat(release("step-1:1", "worker-a/1").statusCode()).isEqualTo(204);
    Response taken = claim("step-1:1", "worker-b/7", 30);
    assertThat(taken.jsonPath().getBoolean("granted")).isTrue();
    assertThat(taken.jsonPath().getString("holder")).isEqualTo("worker-b/7");
  }

  @Test
  void aLeaseThatRanOutIsTakenByTheNextAsker() throws Exception {
    assertThat(claim("step-2:1", "worker-a/1", 30).jsonPath().getBoolean("granted")).isTrue();
    // As if 31 s had passed without a renewal: the holder died.
    try (var c = db.getConnection();
        var ps =
            c.prepareStatement(
                "update step_claim set expires_at = now() - interval '1 second'"
                    + " where workflow_id = ? and claim_key = 'step-2:1'")) {
      ps.setObject(1, workflow);
      assertThat(ps.executeUpdate()).isEqualTo(1);
    }
    Response taken = claim("step-2:1", "worker-b/7", 30);
    assertThat(taken.jsonPath().getBoolean("granted")).isTrue();
    // The dead holder's renewal is refused: the lease is the new holder's now.
    Response late = claim("step-2:1", "worker-a/1", 30);
    assertThat(late.jsonPath().getBoolean("granted")).isFalse();
    assertThat(late.jsonPath().getString("holder")).isEqualTo("worker-b/7");
  }

  @Test
  void aBatchReadTakesTheLeaseFirstAndSaysWhetherItWasGranted() {
    Map<String, Object> claim =
        Map.of("key", "step-3:1", "holder", "worker-a/1", "leaseSeconds", 30);
    String reads = "/api/v1/workflows/" + workflow + "/artifact-reads";
    Response granted =
        postTo(reads, null, Map.of("idempotencyKeys", List.of("step-3:1:design"), "claim", claim));
    assertThat(granted.statusCode()).as(granted.asString()).isEqualTo(200);
    assertThat(granted.jsonPath().getBoolean("claim.granted")).isTrue();
    assertThat(granted.jsonPath().getMap("written")).isEmpty();

    Response refused =
        postTo(
            reads,
            null,
            Map.of(
                "idempotencyKeys",
                List.of("step-3:1:design"),
                "claim",
                Map.of("key", "step-3:1", "holder", "worker-b/7", "leaseSeconds", 30)));
    assertThat(refused.statusCode()).isEqualTo(200);
    assertThat(refused.jsonPath().getBoolean("claim.granted")).isFalse();
    assertThat(refused.jsonPath().getString("claim.holder")).isEqualTo("worker-a/1");

    // Without a claim the answer has none.
    Response plain = postTo(reads, null, Map.of("idempotencyKeys", List.of("step-3:1:design")));
    assertThat(plain.jsonPath().getMap("$")).doesNotContainKey("claim");
  }

  @Test
  void aBatchWriteReleasesTheLeaseWithTheOutputsItStoresAndOnlyThen() {
    assertThat(claim("step-6:1", "worker-a/1", 30).jsonPath().getBoolean("granted")).isTrue();
    String writes = "/api/v1/workflows/" + workflow + "/artifact-writes";
    Map<String, Object> release = Map.of("key", "step-6:1", "holder", "worker-a/1");
    Map<String, Object> design =
        Map.of("name", "design", "kind", "json", "content", Map.of("summary", "one"));
    // Another delivery stored a different answer under the attempt's key first: refused, and the
    // lease stays.
    assertThat(postTo(writes, "step-6:1", Map.of("artifacts", List.of(design))).statusCode())
        .isEqualTo(201);
    Map<String, Object> other =
        Map.of("name", "design", "kind", "json", "content", Map.of("summary", "two"));
    Response refused =
        postTo(writes, "step-6:1", Map.of("artifacts", List.of(other), "release", release));
    assertProblem(refused, 422, "idempotency-key-reuse");
    assertThat(claim("step-6:1", "worker-b/7", 30).jsonPath().getBoolean("granted")).isFalse();

    Map<String, Object> notes = Map.of("name", "notes", "kind", "markdown", "content", "# Notes");
    Response stored =
        postTo(writes, "step-6:1", Map.of("artifacts", List.of(notes), "release", release));
    assertThat(stored.statusCode()).as(stored.asString()).isEqualTo(201);
    assertThat(claim("step-6:1", "worker-b/7", 30).jsonPath().getBoolean("granted")).isTrue();
    assertProblem(
        postTo(
            writes,
            "step-6:2",
            Map.of("artifacts", List.of(notes), "release", Map.of("key", "step-6:2"))),
        400,
        "validation");
  }

  @Test
  void renewalsExtendOnlyLeasesTheirHoldersStillHaveAndNeverCreateOne() {
    Instant until =
        Instant.parse(claim("step-7:1", "worker-a/1", 30).jsonPath().getString("expiresAt"));
    claim("step-7:2", "worker-a/2", 30);
    claim("step-7:3", "worker-a/3", 30);
    release("step-7:2", "worker-a/2");
    release("step-7:3", "worker-a/3");
    claim("step-7:3", "worker-b/7", 30);
    Map<String, Object> held =
        Map.of("workflowId", workflow, "key", "step-7:1", "holder", "worker-a/1");
    Map<String, Object> released =
        Map.of("workflowId", workflow, "key", "step-7:2", "holder", "worker-a/2");
    Map<String, Object> takenOver =
        Map.of("workflowId", workflow, "key", "step-7:3", "holder", "worker-a/3");

    Response renewed =
        postTo(
            "/api/v1/step-claims/renewals",
            null,
            Map.of("leaseSeconds", 120, "leases", List.of(held, released, takenOver)));

    assertThat(renewed.statusCode()).as(renewed.asString()).isEqualTo(200);
    assertThat(renewed.jsonPath().getList("lost.key")).containsExactly("step-7:2", "step-7:3");
    Response mine = claim("step-7:1", "worker-b/7", 30);
    assertThat(mine.jsonPath().getBoolean("granted")).isFalse();
    assertThat(Instant.parse(mine.jsonPath().getString("expiresAt")))
        .isAfter(until.plusSeconds(60));
    // The released one was not brought back: free for anyone.
    assertThat(claim("step-7:2", "worker-b/7", 30).jsonPath().getBoolean("granted")).isTrue();
    assertProblem(
        postTo(
            "/api/v1/step-claims/renewals",
            null,
            Map.of("leaseSeconds", 0, "leases", List.of(held))),
        400,
        "validation");
  }

  @Test
  void aBatchReadThatFailsTakesNoLease() {
    Response missing =
        postTo(
            "/api/v1/workflows/" + workflow + "/artifact-reads",
            null,
            Map.of(
                "refs",
                List.of("design@1"),
                "claim",
                Map.of("key", "step-8:1", "holder", "worker-a/1", "leaseSeconds", 30)));
    assertProblem(missing, 404, "not-found");
    assertThat(claim("step-8:1", "worker-b/7", 30).jsonPath().getBoolean("granted")).isTrue();
  }

  @Test
  void malformedClaimsAre400AndTakeNothing() {
    assertProblem(claim("a key with spaces", "worker-a/1", 30), 400, "validation");
    assertProblem(claim("step-4:1", "", 30), 400, "validation");
    assertProblem(claim("step-4:1", "worker\u00e9", 30), 400, "validation");
    assertProblem(claim("step-4:1", "worker-a/1", 0), 400, "validation");
    assertProblem(claim("step-4:1", "worker-a/1", 601), 400, "validation");
    assertProblem(claim("k".repeat(201), "worker-a/1", 30), 400, "validation");
    assertProblem(release("step-4:1", ""), 400, "invalid-parameter");
    assertProblem(release("step 4", "worker-a/1"), 400, "invalid-parameter");
    // Nothing was taken: another holder gets it.
    assertThat(claim("step-4:1", "worker-b/7", 30).jsonPath().getBoolean("granted")).isTrue();
  }

  @Test
  void leasesThatRanOutADayAgoAreDeleted() throws Exception {
    assertThat(claim("step-5:1", "worker-a/1", 30).jsonPath().getBoolean("granted")).isTrue();
    assertThat(claim("step-5:2", "worker-a/1", 30).jsonPath().getBoolean("granted")).isTrue();
    try (var c = db.getConnection();
        var ps =
            c.prepareStatement(
                "update step_claim set expires_at = now() - interval '25 hours'"
                    + " where workflow_id = ? and claim_key = 'step-5:1'")) {
      ps.setObject(1, workflow);
      assertThat(ps.executeUpdate()).isEqualTo(1);
    }
    assertThat(repository.deleteExpired(Duration.ofDays(1))).isPositive();
    try (var c = db.getConnection();
        var ps =
            c.prepareStatement(
                "select claim_key from step_claim where workflow_id = ? order by claim_key")) {
      ps.setObject(1, workflow);
      try (var rs = ps.executeQuery()) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getString(1)).isEqualTo("step-5:2");
        assertThat(rs.next()).isFalse();
      }
    }
  }
}
