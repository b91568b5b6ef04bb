package dev.atelier.gateway.config;

import io.quarkus.runtime.configuration.MemorySize;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * The gateway's settings. Every value has an environment variable in application.properties; the
 * provider key is only ever read from the environment.
 */
@ConfigMapping(prefix = "gateway")
public interface GatewayConfig {

  /**
   * Caller keys and their teams as {@code key=team,key=team}. A single string rather than a map so
   * that one environment variable ({@code GATEWAY_API_KEYS}) can carry it. Team {@code *} makes a
   * service key that acts for the team named in {@code X-Atelier-Team} ({@code ApiKeys}).
   */
  @WithDefault("atelier-local-key=*")
  String apiKeys();

  /** Bearer key of the {@code /admin} endpoints. */
  @WithDefault("atelier-local-admin-key")
  String adminKey();

  /**
   * Optional model routing as {@code alias=provider[:upstream-model],...}. Models not listed go to
   * the default provider: {@code openai} when a provider key is set, else {@code simulated}.
   */
  Optional<String> models();

  /**
   * When true, only aliases and the models of the price table are served, others are answered 404
   * {@code model_not_found}; when false every model goes to the default provider.
   */
  @WithDefault("false")
  boolean strictModels();

  /**
   * Base64 of 32 bytes: the AES-256-GCM key of provider credentials stored through {@code
   * /admin/providers}. Without it such credentials are refused.
   */
  Optional<String> encryptionKey();

  /** How often each replica re-reads the providers managed through {@code /admin/providers}. */
  @WithDefault("5s")
  Duration providersRefreshInterval();

  /** Timeout of the {@code GET /models} call that validates a managed provider. */
  @WithDefault("10s")
  Duration providersValidationTimeout();

  /**
   * Aliases served by an ordered list of deployments ({@code gateway.aliases.<alias>.strategy},
   * {@code .deployments=provider:model[@weight],...}); they take precedence over {@code
   * gateway.models}.
   */
  Map<String, Alias> aliases();

  Circuit circuit();

  Health health();

  Limits limits();

  OpenAi openai();

  Simulated simulated();

  Prices prices();

  Records records();

  Budgets budgets();

  Idempotency idempotency();

  /** An alias backed by several deployments. */
  interface Alias {
    /** {@code priority}: in order, next on failure; {@code weighted}: by weight, then the rest. */
    @WithDefault("priority")
    Strategy strategy();

    /** {@code provider:model[@weight],...}; the weight (default 1) matters only when weighted. */
    String deployments();
  }

  /** How an alias picks among its deployments. */
  enum Strategy {
    priority,
    weighted
  }

  /** The per-deployment circuit breaker. */
  /** Periodic health checks of every provider ({@code ProviderProbes}). */
  interface Health {
    /** Time between two checks of a provider; 0 turns the checks off. */
    @WithDefault("30s")
    Duration interval();

    /** How long one check may take before it counts as failed. */
    @WithDefault("5s")
    Duration timeout();
  }

  interface Circuit {
    /** Outcomes kept per deployment (the sliding window). */
    @WithDefault("10")
    int windowSize();

    /** Calls in the window before the ratio can open the circuit. */
    @WithDefault("10")
    int minimumCalls();

    /** Failure ratio (0..1] that opens the circuit. */
    @WithDefault("0.5")
    double failureRatio();

    /** How long an open circuit stays open before one half-open probe is let through. */
    @WithDefault("30s")
    Duration openDuration();

    /** Cool-off after a 429 without {@code Retry-After}. */
    @WithDefault("5s")
    Duration defaultRetryAfter();
  }

  /** Request limits. */
  interface Limits {
    /** Largest accepted request body; larger ones are answered 413. */
    @WithDefault("4194304")
    long maxRequestBytes();

    /** Bodies above this are parsed and counted on a worker thread, not the event loop. */
    @WithDefault("262144")
    long offloadAboveBytes();
  }

  /** The OpenAI-compatible upstream provider, enabled when an API key is set. */
  interface OpenAi {
    Optional<String> apiKey();

    @WithDefault("https://api.openai.com/v1")
    String baseUrl();

    @WithDefault("5s")
    Duration connectTimeout();

    /** Longest silence from the upstream (whole answer, or between two stream chunks). */
    @WithDefault("120s")
    Duration timeout();

    /** Retries of connect errors, 429 and 5xx; never of other 4xx. */
    @WithDefault("2")
    int maxRetries();

    @WithDefault("200ms")
    Duration retryBackoff();

    @WithDefault("64")
    int maxConnections();

    /**
     * How long an idle connection to the provider is kept for the next call (whole seconds, at
     * least 1). Shorter than the server's own idle timeout, or a call sent as the server closes it
     * is reset: retried, and recorded as a call the provider may have had. Uvicorn-based
     * OpenAI-compatible servers close after 5 s; OpenAI's own SDKs keep connections 5 s.
     */
    @WithDefault("4s")
    Duration keepAliveTimeout();

    /**
     * Largest answer read from the provider: a whole (not streamed) answer, or one event of a
     * stream. Larger is a 502 {@code provider_response_too_large}: the gateway holds an answer in
     * memory to meter it, and an unbounded one could exhaust its heap, failing every call in
     * flight.
     */
    @WithDefault("16777216")
    long maxResponseBytes();
  }

  /** The built-in deterministic provider. */
  interface Simulated {
    Latency latency();

    /** Simulated provider latency, so benchmarks can model a real provider. */
    interface Latency {
      /** {@code none}, {@code fixed} or {@code lognormal}. */
      @WithDefault("none")
      LatencyMode mode();

      @WithDefault("0ms")
      Duration fixed();

      /** Median of the lognormal distribution. */
      @WithDefault("800ms")
      Duration median();

      /** Shape (standard deviation of the underlying normal) of the lognormal distribution. */
      @WithDefault("0.5")
      double sigma();
    }
  }

  /** How simulated latency is drawn. */
  enum LatencyMode {
    none,
    fixed,
    lognormal
  }

  /** Price table cache. */
  interface Prices {
    /** How often the in-memory price table is reloaded from the database. */
    @WithDefault("5m")
    Duration refreshInterval();
  }

  /** Publishing of {@code LlmCallRecorded}. */
  interface Records {
    /** Records published per broker confirm. */
    @WithDefault("100")
    int batchSize();

    /** How often spooled records are re-published. */
    @WithDefault("5s")
    Duration retryInterval();

    /** The local journal every record is written to before the caller gets its answer. */
    Journal journal();

    /** {@code RecordJournal} settings. */
    interface Journal {
      /** This process's own directory (locked: one gateway process per directory). */
      String dir();

      /** Also wait for the disk on each record (survives a machine crash, not only a kill). */
      @WithDefault("false")
      boolean fsync();

      /** A journal segment is closed and a new one started at this size. */
      @WithDefault("64M")
      MemorySize segmentSize();

      /**
       * Calls at a provider marked at once in the journal directory's memory-mapped slot file (2
       * KiB each, touched only as used); more take a small file each.
       */
      @WithDefault("4096")
      int inFlightSlots();
    }
  }

  /** Budgets (stored in the database, managed through {@code /admin/budgets}). */
  interface Budgets {
    /**
     * How often each replica re-reads which teams and workflows have a budget (calls of others
     * never touch the database) and refreshes the remaining-budget gauges.
     */
    @WithDefault("5s")
    Duration refreshInterval();

    /** Output tokens assumed for the worst-case reservation of a call without max_tokens. */
    @WithDefault("4096")
    int defaultMaxOutputTokens();

    /** A reservation not settled within this time is released and charged in full. */
    @WithDefault("10m")
    Duration reservationTtl();
  }

  /** Calls made with an {@code Idempotency-Key}, whose answers are kept for repeats. */
  interface Idempotency {
    /** How long a call's answer is kept for a repeat of the call. */
    @WithDefault("1h")
    Duration retention();

    /**
     * A running call's replica renews its claim every sixth of this; a claim not renewed for this
     * long is taken to have died with its replica, and a repeat makes the call again. Until then
     * repeats are answered 409. At least 3 s.
     */
    @WithDefault("30s")
    Duration takeover();

    /** Answers larger than this are not kept: a repeat of their call is a new call. */
    @WithDefault("1048576")
    int maxAnswerBytes();
  }
}
