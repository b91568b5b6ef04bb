package dev.atelier.worker.client;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import dev.atelier.contracts.ArtifactRef;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * The body of context-service's batch read: the versions to read, the idempotency keys whose writes
 * to look up, and the step-attempt lease to take first.
 */
public record BatchRead(
    List<ArtifactRef> refs,
    List<String> idempotencyKeys,
    @JsonInclude(JsonInclude.Include.NON_NULL) Claim claim) {

  /** A lease on one step attempt; the same holder renews it. */
  public record Claim(String key, String holder, int leaseSeconds) {}

  /**
   * The answer to a {@link Claim}.
   *
   * @param holder who holds the lease (this worker's run when granted)
   * @param expiresAt when it runs out unless renewed
   */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record ClaimState(boolean granted, String holder, Instant expiresAt) {}

  /**
   * Its answer.
   *
   * @param artifacts the versions asked for, in the order asked
   * @param written the version each key wrote; keys that wrote nothing are absent
   * @param claim the answer to the claim; absent when none was made (or the service predates
   *     leases, which then grants every claim)
   */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record Result(
      List<ArtifactView> artifacts, Map<String, ArtifactView> written, ClaimState claim) {

    /** Whether the claim, if any, was granted. */
    public boolean claimGranted() {
      return claim == null || claim.granted();
    }
  }
}
