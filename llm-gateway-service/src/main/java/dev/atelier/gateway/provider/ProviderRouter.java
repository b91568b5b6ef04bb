package dev.atelier.gateway.provider;

import dev.atelier.gateway.config.GatewayConfig;
import dev.atelier.gateway.managed.ManagedProviders;
import dev.atelier.gateway.pricing.Price;
import dev.atelier.gateway.pricing.PriceCatalog;
import dev.atelier.gateway.provider.openai.OpenAiCompatibleProvider;
import dev.atelier.gateway.provider.simulated.SimulatedProvider;
import dev.atelier.gateway.service.GatewayException;
import io.quarkus.runtime.Startup;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeSet;
import org.jboss.logging.Logger;

/**
 * Chooses the provider of a requested model. Aliases from {@code gateway.models} come first, then
 * {@code provider/model} for a provider added through {@code /admin/providers}; every other model
 * goes to the default provider, {@code openai} when a provider key is configured and {@code
 * simulated} otherwise. A misconfigured alias stops start-up rather than failing calls later.
 */
@Startup
@ApplicationScoped
public class ProviderRouter {

  private static final Logger LOG = Logger.getLogger(ProviderRouter.class);

  private final Map<String, Provider> providers = new LinkedHashMap<>();
  private final Map<String, Route> aliases = new LinkedHashMap<>();
  private final Provider defaultProvider;
  private final PriceCatalog prices;
  private final boolean strict;
  private final ManagedProviders managed;

  ProviderRouter(
      GatewayConfig config,
      SimulatedProvider simulated,
      OpenAiCompatibleProvider openai,
      PriceCatalog prices,
      ManagedProviders managed) {
    this.prices = prices;
    this.managed = managed;
    this.strict = config.strictModels();
    providers.put(simulated.name(), simulated);
    if (openai.enabled()) {
      providers.put(openai.name(), openai);
    }
    this.defaultProvider = openai.enabled() ? openai : simulated;
    config.models().ifPresent(this::parse);
    LOG.infof("default provider %s; aliases %s", defaultProvider.name(), aliases.keySet());
  }

  private void parse(String spec) {
    for (String entry : spec.split(",")) {
      String e = entry.trim();
      if (e.isEmpty()) {
        continue;
      }
      int eq = e.indexOf('=');
      if (eq <= 0 || eq == e.length() - 1) {
        throw new IllegalStateException(
            "gateway.models: '" + e + "' is not alias=provider[:model]");
      }
      String alias = e.substring(0, eq).trim();
      String target = e.substring(eq + 1).trim();
      int colon = target.indexOf(':');
      String providerName = colon < 0 ? target : target.substring(0, colon);
      String model = colon < 0 ? alias : target.substring(colon + 1);
      Provider provider = providers.get(providerName);
      if (provider == null) {
        throw new IllegalStateException(
            "gateway.models: alias '"
                + alias
                + "' names provider '"
                + providerName
                + "', which is not configured (configured: "
                + providers.keySet()
                + ")");
      }
      aliases.put(alias, new Route(provider, model));
    }
  }

  /**
   * Where {@code model} goes.
   *
   * @throws GatewayException 404 when models are strict and {@code model} is not served
   */
  public Route route(String model) {
    Route alias = aliases.get(model);
    if (alias != null) {
      return alias;
    }
    // "provider/model" reaches a provider added through /admin/providers.
    int slash = model.indexOf('/');
    if (slash > 0 && slash < model.length() - 1) {
      Optional<Provider> p = managed.find(model.substring(0, slash));
      if (p.isPresent()) {
        return new Route(p.get(), model.substring(slash + 1));
      }
    }
    if (strict && !pricedModels().contains(model)) {
      throw GatewayException.modelNotFound(model, "");
    }
    return new Route(defaultProvider, model);
  }

  /**
   * Models the default provider serves by name: those of the price table (the simulated provider
   * answers for the real models it borrows prices from).
   */
  public SortedSet<String> pricedModels() {
    SortedSet<String> models = new TreeSet<>();
    for (Price p : prices.all()) {
      boolean ownRow = p.provider().equals(defaultProvider.name());
      boolean borrowed =
          defaultProvider.simulated() && p.provider().equals(OpenAiCompatibleProvider.NAME);
      if ((ownRow || borrowed) && !PriceCatalog.ANY_MODEL.equals(p.model())) {
        models.add(p.model());
      }
    }
    return models;
  }

  public Provider defaultProvider() {
    return defaultProvider;
  }

  /** The configured aliases, in configuration order. */
  public Map<String, Route> aliases() {
    return Map.copyOf(aliases);
  }
}
