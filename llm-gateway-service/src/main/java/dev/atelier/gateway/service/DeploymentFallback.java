package dev.atelier.gateway.service;

import dev.atelier.gateway.provider.CircuitBreaker;
import dev.atelier.gateway.provider.Deployment;
import dev.atelier.gateway.provider.DeploymentHealth;
import dev.atelier.gateway.provider.Provider;
import dev.atelier.gateway.provider.ProviderRouter;
import dev.atelier.gateway.provider.Route;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Function;
import org.jboss.logging.Logger;

/**
 * Fallback across the deployments of a model alias, for any kind of call (chat, embeddings): picks
 * the next deployment whose circuit breaker lets a call through, tells the breaker how the attempt
 * went, and moves on after a failure worth retrying (connect error, timeout, 5xx, 429).
 */
@ApplicationScoped
public class DeploymentFallback {

  private static final Logger LOG = Logger.getLogger(DeploymentFallback.class);

  private final ProviderRouter router;
  private final DeploymentHealth health;

  DeploymentFallback(ProviderRouter router, DeploymentHealth health) {
    this.router = router;
    this.health = health;
  }

  /** What fallback needs of a call: its plan, the deployment it is on, and a trail of steps. */
  public interface Routed {
    UUID id();

    /** The model (alias) the caller asked for. */
    String model();

    /** The deployments of the alias in the order to try them. */
    List<Deployment> plan();

    /** The call moves to {@code route}. */
    void use(Route route);

    /** Notes a deployment step ({@code openai:gpt-4o-mini=503}, {@code ...=circuit_open}). */
    void step(String step);

    /** The steps so far, joined. */
    String fallbackPath();
  }

  /** A deployment chosen for one attempt, with the breaker that must hear its outcome. */
  public record Attempt(Route route, CircuitBreaker breaker, int next) {
    public Provider provider() {
      return route.provider();
    }

    public String upstreamModel() {
      return route.upstreamModel();
    }
  }

  /**
   * One attempt on the next available deployment; a retryable failure moves on to the following
   * one. Other failures (400, 401...) reach the caller at once.
   *
   * @param last the failure of the previous attempt, answered when no deployment is left
   * @param send the call on the chosen deployment
   */
  public <T> Uni<T> attempt(Routed call, int from, Throwable last, Function<Attempt, Uni<T>> send) {
    Optional<Attempt> chosen = choose(call, from);
    if (chosen.isEmpty()) {
      return Uni.createFrom().failure(last != null ? last : allUnavailable(call));
    }
    Attempt a = chosen.get();
    return Uni.createFrom()
        .deferred(() -> send.apply(a))
        .onItem()
        .invoke(x -> a.breaker().onSuccess())
        .onFailure()
        .invoke(t -> outcome(call, a, t))
        .onCancellation()
        .invoke(a.breaker()::release)
        .onFailure(t -> t instanceof GatewayException g && g.retryable())
        .recoverWithUni(t -> attempt(call, a.next(), t, send));
  }

  /**
   * The next deployment from {@code from} whose breaker lets a call through (taking the half-open
   * probe if it is one), or empty when every remaining one is open, cooling down or unknown.
   */
  public Optional<Attempt> choose(Routed call, int from) {
    List<Deployment> plan = call.plan();
    for (int i = from; i < plan.size(); i++) {
      Deployment d = plan.get(i);
      Optional<Route> route = router.resolve(d);
      if (route.isEmpty()) {
        call.step(d.key() + "=not_configured");
        continue;
      }
      if (i + 1 < plan.size() && health.providerDown(route.get().provider().name())) {
        // Its provider failed the last health check: spare the caller that wait while another
        // deployment remains (the last one is always tried).
        call.step(d.key() + "=provider_down");
        continue;
      }
      CircuitBreaker breaker = health.breaker(d);
      if (!breaker.tryAcquire(Instant.now())) {
        CircuitBreaker.Snapshot state = breaker.snapshot(Instant.now());
        call.step(d.key() + "=" + (state.cooldownUntil() != null ? "cooling_down" : state.state()));
        continue;
      }
      call.use(route.get());
      return Optional.of(new Attempt(route.get(), breaker, i + 1));
    }
    return Optional.empty();
  }

  /** Tells the attempt's breaker how it went and notes the step. */
  public void outcome(Routed call, Attempt a, Throwable t) {
    String key = a.provider().name() + ":" + a.upstreamModel();
    if (t instanceof GatewayException g && !g.retryable()) {
      // The deployment answered; the request itself was refused (400, 401...).
      a.breaker().onSuccess();
      return;
    }
    GatewayException g = t instanceof GatewayException ge ? ge : null;
    String error = g != null ? g.code() + " (" + g.status() + ")" : t.getClass().getSimpleName();
    Duration retryAfter = null;
    if (g != null && g.status() == 429) {
      retryAfter = g.retryAfter() != null ? g.retryAfter() : health.defaultRetryAfter();
    }
    a.breaker().onFailure(Instant.now(), error, retryAfter);
    call.step(key + "=" + (g != null ? g.status() : "error"));
    LOG.infof("call %s: deployment %s failed: %s", call.id(), key, error);
  }

  /** 503 when every deployment of the alias is unavailable. */
  public static GatewayException allUnavailable(Routed call) {
    return new GatewayException(
        503,
        GatewayException.UPSTREAM,
        "provider_unavailable",
        null,
        "Every deployment of `" + call.model() + "` is unavailable (" + call.fallbackPath() + ")",
        true,
        true,
        null,
        null);
  }
}
