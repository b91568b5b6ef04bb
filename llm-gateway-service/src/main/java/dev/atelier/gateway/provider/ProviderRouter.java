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
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.concurrent.ThreadLocalRandom;
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
  private final DeploymentHealth health;
  private final Map<String, Plan> plans = new LinkedHashMap<>();

  /** Every provider calls may go to now: the built-in ones and those managed at run time. */
  public List<Provider> providers() {
    List<Provider> all = new ArrayList<>(providers.values());
    all.addAll(managed.all());
    return all;
  }

  /** An alias served by several deployments. */
  record Plan(GatewayConfig.Strategy strategy, List<Deployment> deployments) {}

  ProviderRouter(
      GatewayConfig config,
      SimulatedProvider simulated,
      OpenAiCompatibleProvider openai,
      PriceCatalog prices,
      ManagedProviders managed,
      DeploymentHealth health) {
    this.prices = prices;
    this.managed = managed;
    this.health = health;
    this.strict = config.strictModels();
    providers.put(simulated.name(), simulated);
    if (openai.enabled()) {
      providers.put(openai.name(), openai);
    }
    this.defaultProvider = openai.enabled() ? openai : simulated;
    config.models().ifPresent(this::parse);
    config.aliases().forEach(this::parsePlan);
    LOG.infof(
        "default provider %s; aliases %s; deployment aliases %s",
        defaultProvider.name(), aliases.keySet(), plans.keySet());
  }

  private void parsePlan(String alias, GatewayConfig.Alias spec) {
    List<Deployment> list = new ArrayList<>();
    for (String entry : spec.deployments().split(",")) {
      String e = entry.trim();
      if (e.isEmpty()) {
        continue;
      }
      int weight = 1;
      int at = e.lastIndexOf('@');
      if (at > 0) {
        try {
          weight = Integer.parseInt(e.substring(at + 1).trim());
        } catch (NumberFormatException ex) {
          weight = -1;
        }
        e = e.substring(0, at).trim();
      }
      int colon = e.indexOf(':');
      if (colon <= 0 || colon == e.length() - 1 || weight < 1) {
        throw new IllegalStateException(
            "gateway.aliases."
                + alias
                + ".deployments: '"
                + entry.trim()
                + "' is not provider:model[@weight>=1]");
      }
      String providerName = e.substring(0, colon);
      if (!providers.containsKey(providerName)) {
        // May be a provider added through /admin/providers later: resolved per call.
        LOG.warnf(
            "alias %s: provider '%s' is not configured at start-up; it must be added through"
                + " /admin/providers",
            alias, providerName);
      }
      Deployment d = new Deployment(providerName, e.substring(colon + 1), weight);
      health.breaker(d);
      list.add(d);
    }
    if (list.isEmpty()) {
      throw new IllegalStateException("gateway.aliases." + alias + ".deployments is empty");
    }
    plans.put(alias, new Plan(spec.strategy(), List.copyOf(list)));
  }

  /**
   * The deployments of a deployment alias in the order to try them: configuration order (priority),
   * or a weighted random order of the available ones followed by the others (weighted). Empty when
   * {@code model} is not such an alias.
   */
  public List<Deployment> plan(String model) {
    Plan plan = plans.get(model);
    if (plan == null) {
      return List.of();
    }
    if (plan.strategy() == GatewayConfig.Strategy.priority) {
      return plan.deployments();
    }
    Instant now = Instant.now();
    List<Deployment> healthy = new ArrayList<>();
    List<Deployment> rest = new ArrayList<>();
    for (Deployment d : plan.deployments()) {
      (health.breaker(d).available(now) ? healthy : rest).add(d);
    }
    List<Deployment> ordered = new ArrayList<>();
    ThreadLocalRandom random = ThreadLocalRandom.current();
    while (!healthy.isEmpty()) {
      int total = healthy.stream().mapToInt(Deployment::weight).sum();
      int pick = random.nextInt(total);
      for (int i = 0; i < healthy.size(); i++) {
        pick -= healthy.get(i).weight();
        if (pick < 0) {
          ordered.add(healthy.remove(i));
          break;
        }
      }
    }
    ordered.addAll(rest);
    return ordered;
  }

  /** The provider of a deployment now, if it exists (a managed one may have been removed). */
  public Optional<Route> resolve(Deployment d) {
    Provider p = providers.get(d.provider());
    if (p == null) {
      p = managed.find(d.provider()).orElse(null);
    }
    return Optional.ofNullable(p).map(x -> new Route(x, d.model()));
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
    Plan plan = plans.get(model);
    if (plan != null) {
      // The first deployment that exists names the call until a fallback changes it.
      for (Deployment d : plan.deployments()) {
        Optional<Route> r = resolve(d);
        if (r.isPresent()) {
          return r.get();
        }
      }
      throw new GatewayException(
          503,
          GatewayException.UPSTREAM,
          "provider_unavailable",
          null,
          "No provider of alias `" + model + "` is configured",
          false,
          false,
          null,
          null);
    }
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

  /** The deployment aliases ({@code gateway.aliases}), in configuration order. */
  public List<String> deploymentAliases() {
    return List.copyOf(plans.keySet());
  }
}
