package dev.atelier.gateway.provider;

import dev.atelier.gateway.config.GatewayConfig;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.mutiny.Uni;
import io.vertx.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.jboss.logging.Logger;

/**
 * Periodic health checks of every provider ({@code gateway.health.interval}, default 30 s): a cheap
 * {@link Provider#probe} ({@code GET {baseUrl}/models} for OpenAI-compatible ones) whose outcome is
 * shown at {@code /admin/providers/health} and exported as the gauge {@code
 * atelier.llm.provider.up} (1 up, 0 down) per provider.
 *
 * <p>A provider is down when it cannot be reached in {@code gateway.health.timeout}, answers 5xx,
 * or refuses the key (401/403); a 404 (a compatible server without {@code /models}) or a 429 still
 * proves it reachable. Alias routing steers around a down provider's deployments while another
 * deployment remains, but never refuses a call on a probe's word alone: the last deployment is
 * always tried, and the circuit breakers keep judging real calls.
 */
@ApplicationScoped
public class ProviderProbes {

  private static final Logger LOG = Logger.getLogger(ProviderProbes.class);

  /** The last check of one provider. */
  public record Probe(
      String provider,
      boolean up,
      Integer status,
      long latencyMs,
      Instant checkedAt,
      String error) {}

  private final ProviderRouter router;
  private final DeploymentHealth health;
  private final GatewayConfig.Health config;
  private final MeterRegistry registry;
  private final Vertx vertx;
  private final Map<String, Probe> last = new ConcurrentHashMap<>();
  private long timer = -1;

  ProviderProbes(
      ProviderRouter router,
      DeploymentHealth health,
      GatewayConfig config,
      MeterRegistry registry,
      Vertx vertx) {
    this.router = router;
    this.health = health;
    this.config = config.health();
    this.registry = registry;
    this.vertx = vertx;
  }

  void onStart(@Observes StartupEvent event) {
    long every = config.interval().toMillis();
    if (every <= 0) {
      LOG.info("provider health checks are off (gateway.health.interval=0)");
      return;
    }
    checkAll();
    timer = vertx.setPeriodic(every, id -> checkAll());
  }

  void onStop(@Observes ShutdownEvent event) {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
  }

  /** Starts one check of every provider; each records its outcome when it completes. */
  public void checkAll() {
    List<Provider> providers = router.providers();
    List<String> names = providers.stream().map(Provider::name).toList();
    last.keySet().stream()
        .filter(n -> !names.contains(n))
        .toList()
        .forEach(
            gone -> {
              last.remove(gone);
              health.providerDown(gone, false);
            });
    for (Provider p : providers) {
      long start = System.nanoTime();
      // Deferred: a probe that throws at once is that provider's failure, not the end of the loop.
      Uni.createFrom()
          .deferred(() -> p.probe(config.timeout()))
          .ifNoItem()
          .after(config.timeout())
          .fail()
          .subscribe()
          .with(
              status -> record(p.name(), start, status, null),
              failure -> record(p.name(), start, null, describe(failure)));
    }
  }

  /** The last check of every provider, by name. */
  public Map<String, Probe> probes() {
    return new TreeMap<>(last);
  }

  /** The last check of one provider. */
  public Optional<Probe> probe(String provider) {
    return Optional.ofNullable(last.get(provider));
  }

  private void record(String provider, long start, Integer status, String error) {
    boolean up = error == null && up(status);
    Probe probe =
        new Probe(
            provider,
            up,
            status,
            Duration.ofNanos(System.nanoTime() - start).toMillis(),
            Instant.now(),
            error != null ? error : up ? null : "GET /models answered HTTP " + status);
    Probe before = last.put(provider, probe);
    health.providerDown(provider, !up);
    if (before == null) {
      Gauge.builder("atelier.llm.provider.up", last, m -> upValue(m.get(provider)))
          .description("1 while the provider's last health check passed, 0 while it failed")
          .tag("provider", provider)
          .register(registry);
    }
    if (before == null || before.up() != up) {
      if (up) {
        LOG.infof("provider %s is up (%d ms)", provider, probe.latencyMs());
      } else {
        LOG.warnf("provider %s is down: %s", provider, probe.error());
      }
    }
  }

  private static double upValue(Probe p) {
    return p == null ? Double.NaN : p.up() ? 1 : 0;
  }

  private static boolean up(int status) {
    return status < 500 && status != 401 && status != 403;
  }

  private static String describe(Throwable failure) {
    String message = failure.getMessage();
    return failure.getClass().getSimpleName() + (message == null ? "" : ": " + message);
  }
}
