package dev.atelier.worker.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.atelier.contracts.ArtifactRef;
import io.smallrye.faulttolerance.api.ExponentialBackoff;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.ws.rs.ProcessingException;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Response;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.eclipse.microprofile.faulttolerance.Retry;
import org.eclipse.microprofile.faulttolerance.Timeout;
import org.eclipse.microprofile.faulttolerance.exceptions.TimeoutException;
import org.eclipse.microprofile.rest.client.inject.RestClient;

/**
 * The worker's only way to context-service. Every call has a timeout and, on transient failures
 * (connection errors, timeouts, 408/409/429/5xx), is retried with exponential backoff (250 ms
 * doubling to 5 s) for up to two minutes ({@code WORKER_CONTEXT_RETRY_FOR_MS}): a context-service
 * restart holds the step instead of failing its attempt, which after the LLM call would throw away
 * an answer already paid for and spend one of the step's attempts on our own outage. Other answers
 * are final and surface as {@link ContextRejectedException}. Writes are safe to retry because each
 * carries an idempotency key. The policy is declared once, on the class, for every public method;
 * MicroProfile Config can override it (e.g. {@code
 * dev.atelier.worker.client.ContextClient/Retry/maxDuration}).
 */
@ApplicationScoped
@Timeout(value = 15, unit = ChronoUnit.SECONDS)
@Retry(
    maxRetries = -1,
    delay = 250,
    jitter = 100,
    maxDuration = 120_000,
    retryOn = {ContextUnavailableException.class, TimeoutException.class})
@ExponentialBackoff(maxDelay = 5, maxDelayUnit = ChronoUnit.SECONDS)
public class ContextClient {

  private final ContextApi api;
  private final StepLeaseApi leaseApi;
  private final ObjectMapper mapper;

  ContextClient(
      @RestClient ContextApi api, @RestClient StepLeaseApi leaseApi, ObjectMapper mapper) {
    this.api = api;
    this.leaseApi = leaseApi;
    this.mapper = mapper;
  }

  /**
   * Writes a version under {@code idempotencyKey}: the first call appends a version, a retry with
   * the same key and body returns that same version.
   */
  public ArtifactView write(UUID workflowId, String idempotencyKey, NewArtifact artifact) {
    try {
      return api.write(workflowId, idempotencyKey, artifact);
    } catch (WebApplicationException | ProcessingException e) {
      throw translate(e, "writing " + artifact.name());
    }
  }

  /**
   * Reads the given versions and what the given idempotency keys wrote, in one request.
   *
   * @throws ContextRejectedException 404 when a version does not exist
   */
  public BatchRead.Result readAll(
      UUID workflowId, List<ArtifactRef> refs, List<String> keys, BatchRead.Claim claim) {
    try {
      return api.readAll(workflowId, new BatchRead(refs, keys, claim));
    } catch (WebApplicationException | ProcessingException e) {
      throw translate(e, "reading " + refs);
    }
  }

  /**
   * Takes or renews one step-attempt lease. Tried once more on a failure, within seconds: the
   * caller asks again soon anyway.
   */
  @Timeout(value = 3, unit = ChronoUnit.SECONDS)
  @Retry(
      maxRetries = 1,
      delay = 200,
      retryOn = {ContextUnavailableException.class, TimeoutException.class})
  public BatchRead.ClaimState claim(UUID workflowId, BatchRead.Claim claim) {
    try {
      return api.claim(workflowId, claim);
    } catch (WebApplicationException | ProcessingException e) {
      throw translate(e, "asking for the lease " + claim.key());
    }
  }

  /**
   * Renews every lease given, in one request; answers those not renewed. Tried once: the next
   * renewal comes long before a lease runs out.
   */
  @Timeout(value = 3, unit = ChronoUnit.SECONDS)
  @Retry(maxRetries = 0)
  public List<StepLeaseApi.Lease> renew(List<StepLeaseApi.Lease> leases, int leaseSeconds) {
    try {
      return leases.isEmpty()
          ? List.of()
          : leaseApi.renew(new StepLeaseApi.Renewals(leaseSeconds, leases)).lost();
    } catch (WebApplicationException | ProcessingException e) {
      throw translate(e, "renewing " + leases.size() + " lease(s)");
    }
  }

  /**
   * Releases a step-attempt lease. Best effort, tried once: a lease not released runs out by itself
   * within its lease time.
   */
  @Timeout(value = 3, unit = ChronoUnit.SECONDS)
  @Retry(maxRetries = 0)
  public void release(UUID workflowId, String key, String holder) {
    try {
      api.release(workflowId, key, holder);
    } catch (WebApplicationException | ProcessingException e) {
      throw translate(e, "releasing the lease " + key);
    }
  }

  /**
   * Writes the artifacts together, each under {@code <keyPrefix>:<name>}: all are stored or none,
   * and a retry returns the versions the first call stored. {@code release}, when not null, is
   * released in the same transaction.
   */
  public List<ArtifactView> writeAll(
      UUID workflowId, String keyPrefix, List<NewArtifact> artifacts, BatchWrite.Release release) {
    try {
      return api
          .writeAll(workflowId, keyPrefix, new BatchWrite(artifacts, release))
          .writes()
          .stream()
          .map(BatchWrite.Written::version)
          .toList();
    } catch (WebApplicationException | ProcessingException e) {
      throw translate(e, "writing " + artifacts.stream().map(NewArtifact::name).toList());
    }
  }

  private RuntimeException translate(RuntimeException e, String what) {
    if (e instanceof WebApplicationException wae) {
      Response response = wae.getResponse();
      int status = response.getStatus();
      String detail = detail(response).map(d -> ": " + d).orElse("");
      String message = "context-service answered " + status + " " + what + detail;
      if (status == 408 || status == 409 || status == 429 || status >= 500) {
        return new ContextUnavailableException(message, e);
      }
      return new ContextRejectedException(status, message);
    }
    // Connection refused, reset or timed out: nothing reached the service, or its answer was lost.
    return new ContextUnavailableException(
        "context-service unreachable " + what + ": " + rootMessage(e), e);
  }

  /** The problem+json detail, which context-service keeps free of internals. */
  private Optional<String> detail(Response response) {
    try {
      String body = response.readEntity(String.class);
      if (body == null || body.isBlank()) {
        return Optional.empty();
      }
      JsonNode problem = mapper.readTree(body);
      return Optional.ofNullable(problem.path("detail").textValue());
    } catch (RuntimeException | java.io.IOException ignored) {
      return Optional.empty();
    }
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
  }
}
