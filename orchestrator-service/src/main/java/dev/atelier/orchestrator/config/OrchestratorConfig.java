package dev.atelier.orchestrator.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.List;

/**
 * The orchestrator's settings. Every value can be set from the environment, e.g. {@code
 * ORCHESTRATOR_OUTBOX_POLL_INTERVAL=250ms}.
 */
@ConfigMapping(prefix = "orchestrator")
public interface OrchestratorConfig {

  Submission submission();

  Outbox outbox();

  Scheduler scheduler();

  Consumers consumers();

  Seed seed();

  Events events();

  /**
   * Base URL of context-service; a workflow's artifacts are linked as {@code
   * <url>/api/v1/workflows/<id>/artifacts}.
   */
  @WithDefault("http://localhost:8083")
  String contextServiceUrl();

  /** Limits and defaults of {@code POST /api/v1/workflows}. */
  interface Submission {
    /** Largest requirement accepted, in UTF-8 bytes. */
    @WithDefault("65536")
    int requirementMaxBytes();

    @WithDefault("software-delivery")
    String defaultDefinition();

    @WithDefault("default")
    String defaultTeam();

    /** A title derived from the requirement's first line is cut to this many characters. */
    @WithDefault("120")
    int titleMaxLength();

    @WithDefault("32")
    int metadataMaxEntries();

    @WithDefault("64")
    int metadataKeyMaxLength();

    @WithDefault("1024")
    int metadataValueMaxLength();

    @WithDefault("20")
    int pageSizeDefault();

    @WithDefault("100")
    int pageSizeMax();
  }

  /** The relay that publishes outbox rows. */
  interface Outbox {
    /** How often the relay looks for rows when no commit woke it. */
    @WithDefault("500ms")
    Duration pollInterval();

    @WithDefault("100")
    int batchSize();

    /** First wait before republishing a row the broker refused; doubles up to the maximum. */
    @WithDefault("1s")
    Duration retryBackoff();

    @WithDefault("30s")
    Duration retryBackoffMax();
  }

  /** The scheduler that dispatches due retries and times out overdue steps. */
  interface Scheduler {
    @WithDefault("1s")
    Duration interval();

    /** Workflows handled per tick. */
    @WithDefault("200")
    int batchSize();

    /** How long processed event ids are kept for deduplication. */
    @WithDefault("168h")
    Duration processedEventRetention();
  }

  /** Consumers of step results and LLM-call records. */
  interface Consumers {
    @WithDefault("16")
    int resultsPrefetch();

    @WithDefault("4")
    int resultsConcurrency();

    /**
     * Raised to twice {@link #llmCallsBatchSize()} when lower, so the next batch fills while one is
     * written.
     */
    @WithDefault("64")
    int llmCallsPrefetch();

    @WithDefault("2")
    int llmCallsConcurrency();

    /**
     * LLM-call records applied per transaction: a batch's calls are summed per workflow and step,
     * so each row is updated once per batch.
     */
    @WithDefault("32")
    int llmCallsBatchSize();

    /** How long a partial batch waits for more records before it is applied. */
    @WithDefault("50ms")
    Duration llmCallsBatchWait();
  }

  /**
   * Built-in definitions, read from {@code classpath:definitions/{agents,workflows}/<name>.yaml}.
   */
  interface Seed {
    List<String> agents();

    List<String> workflows();
  }

  /** The progress stream, {@code GET /api/v1/workflows/{id}/events}. */
  interface Events {
    /** How often an open stream looks for new events (the log is shared by all replicas). */
    @WithDefault("500ms")
    Duration pollInterval();

    /** Most events read per look. */
    @WithDefault("200")
    int batchSize();

    /**
     * A stream still open after this long ends at its next look that finds nothing new; the client
     * reconnects with Last-Event-ID (an EventSource does so by itself) and misses nothing. Bounds
     * the polling for a client gone without closing its connection, which nothing else notices
     * while no event is written.
     */
    @WithDefault("30m")
    Duration maxDuration();
  }
}
