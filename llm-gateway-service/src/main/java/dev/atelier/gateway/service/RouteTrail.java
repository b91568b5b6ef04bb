package dev.atelier.gateway.service;

import dev.atelier.contracts.EventChecks;
import dev.atelier.gateway.provider.Deployment;
import dev.atelier.gateway.provider.Route;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;

/**
 * Where a call is routed: the deployment it is on, the alias's plan, and the steps a fallback took
 * ({@link DeploymentFallback}). Shared by chat and embeddings calls; updated from provider threads,
 * so the route is volatile and the steps synchronized.
 */
public final class RouteTrail implements DeploymentFallback.Routed {

  private final UUID id;
  private final String model;
  private volatile Route route;
  private volatile List<Deployment> plan = List.of();
  private final List<String> steps = Collections.synchronizedList(new ArrayList<>());

  RouteTrail(UUID id, String model, Route route) {
    this.id = id;
    this.model = model;
    this.route = route;
  }

  @Override
  public UUID id() {
    return id;
  }

  @Override
  public String model() {
    return model;
  }

  /** The deployment the call is on. */
  public Route route() {
    return route;
  }

  void plan(List<Deployment> deployments) {
    this.plan = deployments;
  }

  @Override
  public List<Deployment> plan() {
    return plan;
  }

  @Override
  public void use(Route next) {
    this.route = next;
  }

  @Override
  public void step(String step) {
    steps.add(step);
  }

  @Override
  public String fallbackPath() {
    synchronized (steps) {
      String path = String.join(" > ", steps);
      if (EventChecks.utf8Length(path) <= EventChecks.MAX_FALLBACK_PATH_BYTES) {
        return path;
      }
      // What the ledger takes: the last deployments tried (the one that answered or failed last
      // among them), the earlier ones elided; a longer path would leave the call unrecorded.
      StringBuilder kept = new StringBuilder();
      for (int i = steps.size() - 1; i >= 0; i--) {
        String more = steps.get(i) + (kept.isEmpty() ? "" : " > ") + kept;
        if (EventChecks.utf8Length(ELIDED + more) > EventChecks.MAX_FALLBACK_PATH_BYTES) {
          break;
        }
        kept.setLength(0);
        kept.append(more);
      }
      return ELIDED + kept;
    }
  }

  /** Stands for the deployments left out of a path too long to record. */
  static final String ELIDED = "... > ";
}
