package dev.atelier.gateway.pricing;

import dev.atelier.gateway.config.GatewayConfig;
import dev.atelier.gateway.service.Usage;
import dev.atelier.kit.timers.Timers;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.regex.Pattern;
import org.jboss.logging.Logger;

/**
 * The price table, held in memory so that pricing a call never touches the database; reloaded
 * periodically so a new price row takes effect without a restart.
 *
 * <p>Lookup for a real provider: the response model (e.g. {@code gpt-4o-2024-08-06}), then the same
 * without its date suffix, then the requested model. The simulated provider borrows the real price
 * of the model the caller named, so demo costs look real; its record then says {@code
 * simulated-as:openai/gpt-4o@...}. A model nobody prices falls back to the explicit {@code
 * simulated/*} row.
 */
@ApplicationScoped
public class PriceCatalog {

  public static final String SIMULATED = "simulated";
  public static final String ANY_MODEL = "*";
  private static final String REFERENCE_PROVIDER = "openai";
  private static final Pattern DATE_SUFFIX = Pattern.compile("-\\d{4}-\\d{2}-\\d{2}$");
  private static final Logger LOG = Logger.getLogger(PriceCatalog.class);

  private final PriceRepository repository;
  private final GatewayConfig config;
  private volatile Map<String, List<Price>> byKey = Map.of();
  private volatile List<Price> all = List.of();
  private ScheduledExecutorService reloader;

  PriceCatalog(PriceRepository repository, GatewayConfig config) {
    this.repository = repository;
    this.config = config;
  }

  void onStart(@Observes StartupEvent event) throws Exception {
    reload();
    reloader =
        Timers.every("price-reloader", config.prices().refreshInterval(), this::reloadQuietly);
  }

  void onStop(@Observes ShutdownEvent event) {
    if (reloader != null) {
      reloader.shutdownNow();
    }
  }

  /** Loads the table from the database and swaps it in at once. */
  public void reload() throws Exception {
    List<Price> prices = repository.findAll();
    Map<String, List<Price>> map = new HashMap<>();
    for (Price p : prices) {
      map.computeIfAbsent(key(p.provider(), p.model()), k -> new ArrayList<>()).add(p);
    }
    // Newest first, so a lookup takes the first row already in effect.
    map.values().forEach(l -> l.sort(Comparator.comparing(Price::effectiveFrom).reversed()));
    map.replaceAll((k, v) -> List.copyOf(v));
    byKey = Map.copyOf(map);
    all = List.copyOf(prices);
    LOG.debugf("price table loaded: %d rows", prices.size());
  }

  private void reloadQuietly() {
    try {
      reload();
    } catch (Exception e) {
      LOG.warnf("price table reload failed, keeping the previous table: %s", e.toString());
    }
  }

  /** Every row, all versions, as last loaded. */
  public List<Price> all() {
    return all;
  }

  /** The price of {@code provider}/{@code model} in effect at {@code at}. */
  public Optional<Price> find(String provider, String model, Instant at) {
    if (model == null) {
      return Optional.empty();
    }
    List<Price> versions = byKey.get(key(provider, model));
    if (versions == null) {
      return Optional.empty();
    }
    return versions.stream().filter(p -> !p.effectiveFrom().isAfter(at)).findFirst();
  }

  /**
   * Prices a call.
   *
   * @param provider the provider that answered
   * @param requestModel the model asked of the provider
   * @param responseModel the model the provider says answered, or {@code null}
   */
  public PricedCost price(
      String provider, String requestModel, String responseModel, Usage usage, Instant at) {
    if (SIMULATED.equals(provider)) {
      Optional<Price> own = lookup(SIMULATED, requestModel, responseModel, at);
      if (own.isPresent()) {
        return new PricedCost(own.get().cost(usage), own.get().describe());
      }
      Optional<Price> borrowed = lookup(REFERENCE_PROVIDER, requestModel, responseModel, at);
      if (borrowed.isPresent()) {
        return new PricedCost(
            borrowed.get().cost(usage), "simulated-as:" + borrowed.get().describe());
      }
      return find(SIMULATED, ANY_MODEL, at)
          .map(p -> new PricedCost(p.cost(usage), p.describe()))
          .orElse(PricedCost.UNKNOWN);
    }
    return lookup(provider, requestModel, responseModel, at)
        .map(p -> new PricedCost(p.cost(usage), p.describe()))
        .orElse(PricedCost.UNKNOWN);
  }

  /**
   * The price of the model that answered, else of the model asked for, each by its exact name or,
   * for a dated snapshot ({@code gpt-4o-2024-08-06}), by the undated one. The reservation before a
   * call (no answering model yet) and the settlement after it find the same row: a reservation that
   * found none for a dated name reserved nothing, so a hard budget admitted any number of calls in
   * flight, each then charged in full.
   */
  private Optional<Price> lookup(
      String provider, String requestModel, String responseModel, Instant at) {
    if (responseModel != null) {
      Optional<Price> answered = exactOrUndated(provider, responseModel, at);
      if (answered.isPresent()) {
        return answered;
      }
    }
    return exactOrUndated(provider, requestModel, at);
  }

  private Optional<Price> exactOrUndated(String provider, String model, Instant at) {
    Optional<Price> exact = find(provider, model, at);
    if (exact.isPresent() || model == null) {
      return exact;
    }
    String undated = DATE_SUFFIX.matcher(model).replaceFirst("");
    return undated.equals(model) ? Optional.empty() : find(provider, undated, at);
  }

  private static String key(String provider, String model) {
    return provider + '\u0000' + model;
  }
}
