package dev.atelier.gateway.managed;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.atelier.gateway.config.GatewayConfig;
import dev.atelier.gateway.provider.Provider;
import dev.atelier.gateway.provider.openai.OpenAiCompatibleProvider;
import dev.atelier.kit.timers.Timers;
import dev.atelier.kit.tracing.TraceContexts;
import io.opentelemetry.api.OpenTelemetry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.tracing.TracingPolicy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import org.jboss.logging.Logger;

/**
 * The live OpenAI-compatible providers added through {@code /admin/providers}: one HTTP client
 * each, rebuilt when the stored revision changes and closed when the provider is deleted. Every
 * replica re-reads the table every {@code gateway.providers-refresh-interval}; the replica that
 * made a change applies it at once and validates it asynchronously with {@code GET
 * {baseUrl}/models}.
 *
 * <p>Keys are decrypted only here, into the provider's client; they are never logged, traced (the
 * upstream span carries no headers) or returned.
 */
@ApplicationScoped
public class ManagedProviders {

  private static final Logger LOG = Logger.getLogger(ManagedProviders.class);

  private record Live(long revision, OpenAiCompatibleProvider provider) {}

  private final ManagedProviderRepository repository;
  private final CredentialCipher cipher;
  private final GatewayConfig config;
  private final Vertx vertx;
  private final ObjectMapper mapper;
  private final OpenTelemetry openTelemetry;
  private final TraceContexts traces;
  private final Map<String, Live> live = new HashMap<>();
  private volatile Map<String, Provider> byName = Map.of();
  private HttpClient validator;
  private ScheduledExecutorService scheduler;

  ManagedProviders(
      ManagedProviderRepository repository,
      CredentialCipher cipher,
      GatewayConfig config,
      Vertx vertx,
      ObjectMapper mapper,
      OpenTelemetry openTelemetry,
      TraceContexts traces) {
    this.repository = repository;
    this.cipher = cipher;
    this.config = config;
    this.vertx = vertx;
    this.mapper = mapper;
    this.openTelemetry = openTelemetry;
    this.traces = traces;
  }

  void onStart(@Observes StartupEvent event) {
    validator =
        vertx.createHttpClient(
            new HttpClientOptions()
                .setConnectTimeout((int) config.providersValidationTimeout().toMillis())
                .setTracingPolicy(TracingPolicy.IGNORE));
    refresh();
    scheduler =
        Timers.every(
            "managed-provider-refresher", config.providersRefreshInterval(), this::refresh);
  }

  synchronized void onStop(@Observes ShutdownEvent event) {
    if (scheduler != null) {
      scheduler.shutdownNow();
    }
    live.values().forEach(l -> l.provider().close());
    live.clear();
    if (validator != null) {
      validator.close();
    }
  }

  /** Every usable managed provider (in memory). */
  public java.util.Collection<Provider> all() {
    return byName.values();
  }

  /** The managed provider of that name, if any (in memory). */
  public Optional<Provider> find(String name) {
    return Optional.ofNullable(byName.get(name));
  }

  /** Re-reads the table and rebuilds the clients of changed providers. */
  public synchronized void refresh() {
    List<ManagedProvider> rows;
    try {
      rows = repository.findAll();
    } catch (Exception e) {
      LOG.warnf(e, "managed providers could not be re-read; keeping the current ones");
      return;
    }
    Map<String, Live> next = new HashMap<>();
    for (ManagedProvider row : rows) {
      Live current = live.get(row.name());
      if (current != null && current.revision() == row.revision()) {
        next.put(row.name(), current);
        continue;
      }
      try {
        next.put(row.name(), new Live(row.revision(), build(row)));
      } catch (RuntimeException e) {
        // Typically a key sealed with another GATEWAY_ENCRYPTION_KEY; the message has no secret.
        LOG.warnf("managed provider %s is not usable: %s", row.name(), e.getMessage());
      }
    }
    for (Map.Entry<String, Live> old : live.entrySet()) {
      Live kept = next.get(old.getKey());
      if (kept == null || kept != old.getValue()) {
        old.getValue().provider().close();
      }
    }
    live.clear();
    live.putAll(next);
    Map<String, Provider> names = new HashMap<>();
    next.forEach((k, v) -> names.put(k, v.provider()));
    byName = Map.copyOf(names);
  }

  /**
   * Checks a stored provider with a cheap {@code GET {baseUrl}/models} and stores {@code ok} or
   * {@code failed} with the reason (an HTTP status or a connection error, never the key).
   */
  public void validate(ManagedProvider row) {
    String key;
    try {
      key =
          row.apiKeyEncrypted() == null ? null : cipher.decrypt(row.apiKeyEncrypted(), row.name());
    } catch (RuntimeException e) {
      store(row, ManagedProvider.FAILED, e.getMessage());
      return;
    }
    if (key != null && !OpenAiCompatibleProvider.usableKey(key)) {
      // A key stored before keys were checked: Vert.x would refuse the header with the key in
      // its exception message.
      store(
          row,
          ManagedProvider.FAILED,
          "the stored key contains whitespace or control characters; set a new key");
      return;
    }
    RequestOptions options =
        new RequestOptions()
            .setMethod(HttpMethod.GET)
            .setAbsoluteURI(row.baseUrl().replaceAll("/+$", "") + "/models")
            .setIdleTimeout(config.providersValidationTimeout().toMillis());
    if (key != null) {
      options.putHeader("Authorization", "Bearer " + key);
    }
    validator
        .request(options)
        .compose(req -> req.send())
        .compose(res -> res.body().map(b -> res.statusCode()))
        .onComplete(
            ar -> {
              if (ar.failed()) {
                String why = ar.cause().getClass().getSimpleName();
                String message = ar.cause().getMessage();
                store(
                    row,
                    ManagedProvider.FAILED,
                    "GET /models failed: " + why + (message == null ? "" : ": " + message));
              } else if (ar.result() / 100 == 2) {
                store(row, ManagedProvider.OK, null);
              } else {
                store(row, ManagedProvider.FAILED, "GET /models answered HTTP " + ar.result());
              }
            });
  }

  private void store(ManagedProvider row, String status, String reason) {
    // Off the event loop: a database write.
    vertx.executeBlocking(
        () -> {
          repository.status(row.name(), row.revision(), status, reason);
          return null;
        },
        false);
  }

  private OpenAiCompatibleProvider build(ManagedProvider row) {
    String key =
        row.apiKeyEncrypted() == null ? null : cipher.decrypt(row.apiKeyEncrypted(), row.name());
    // A keyless server (a local Ollama) still needs a non-empty bearer to enable the client.
    return new OpenAiCompatibleProvider(
        row.name(),
        row.baseUrl(),
        key == null ? "none" : key,
        config.openai(),
        vertx,
        mapper,
        openTelemetry,
        traces);
  }
}
