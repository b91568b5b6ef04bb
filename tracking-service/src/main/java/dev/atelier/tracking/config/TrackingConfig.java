package dev.atelier.tracking.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;

/**
 * tracking-service settings. Each can be set from the environment, e.g. {@code
 * TRACKING_INGEST_CONCURRENCY} or {@code TRACKING_QUERY_MAX_LIMIT}.
 */
@ConfigMapping(prefix = "tracking")
public interface TrackingConfig {

  Ingest ingest();

  Partitions partitions();

  Retention retention();

  Query query();

  Export export();

  /** How the ledger consumes its queues. */
  interface Ingest {

    /** Unacknowledged LLM-call records per channel; at least {@link #batchSize()}. */
    @WithDefault("4000")
    int prefetch();

    /** Most LLM-call records stored in one transaction. */
    @WithDefault("1000")
    int batchSize();

    /** Longest a record waits for its batch to fill before the batch is stored anyway. */
    @WithDefault("PT0.05S")
    Duration batchWait();

    /** Channels consuming LLM-call records. */
    @WithDefault("2")
    int concurrency();

    /**
     * Unacknowledged workflow events. One channel only, so the events of a workflow are applied in
     * the order the broker holds them (the upsert also ignores older ones).
     */
    @WithDefault("20")
    int workflowPrefetch();
  }

  /** Monthly partitions of the ledger table, created ahead of the data. */
  interface Partitions {

    /** Past months kept ready, for late records. */
    @WithDefault("1")
    int monthsBehind();

    /** Future months created in advance, so a month boundary never waits for maintenance. */
    @WithDefault("2")
    int monthsAhead();

    /** When the daily maintenance runs (Quartz-style cron, UTC). */
    @WithDefault("0 17 3 * * ?")
    String cron();

    /**
     * Longest wait for the exclusive lock creating a partition takes; ingest queues behind it
     * meanwhile. A creation that times out is retried on the next run, and {@link #monthsAhead()}
     * leaves a month of daily runs before the partition is needed.
     */
    @WithDefault("PT2S")
    Duration lockTimeout();
  }

  /**
   * How long raw ledger rows are kept. Whole monthly partitions are dropped once every row they can
   * hold is older than {@link #keep()}; the usage rollups are kept.
   */
  interface Retention {

    /** Age after which raw rows may go ({@code TRACKING_RETENTION_KEEP}). */
    @WithDefault("P400D")
    Duration keep();

    /** When the daily retention run happens (Quartz-style cron, UTC). */
    @WithDefault("0 47 3 * * ?")
    String cron();

    /** Longest wait for the brief table lock a drop takes, so ingest is never stalled behind it. */
    @WithDefault("PT2S")
    Duration lockTimeout();
  }

  /** Limits of the query API. */
  interface Query {

    @WithDefault("50")
    int defaultLimit();

    /** Largest page of calls; a larger {@code limit} is a 400, never silently capped. */
    @WithDefault("500")
    int maxLimit();

    /** Time range of a usage report when the request gives no {@code from}. */
    @WithDefault("P30D")
    Duration defaultUsageRange();

    @WithDefault("100")
    int defaultGroups();

    /** Most groups one usage report returns. */
    @WithDefault("1000")
    int maxGroups();

    /**
     * Longest a usage report or a page of calls may run in the database ({@code
     * TRACKING_QUERY_TIMEOUT}); past it the query is cancelled and the answer is a 503 {@code
     * query-timeout}. Reports share the connection pool with ingest: a few over a year of raw rows
     * could otherwise hold every connection for minutes and stall it.
     */
    @WithDefault("PT30S")
    Duration timeout();
  }

  /** The CSV export of the call list: every matching row through a database cursor. */
  interface Export {

    /**
     * Exports running at once ({@code TRACKING_EXPORT_CONCURRENCY}); another is answered 503 {@code
     * export-busy}. Each holds a pooled connection and a read transaction while its client reads,
     * and the pool is shared with ingest.
     */
    @WithDefault("2")
    int concurrency();

    /**
     * Longest an export may run ({@code TRACKING_EXPORT_MAX_DURATION}): one still running then is
     * cut off (the download ends incomplete), so a client reading slowly cannot hold a connection,
     * and the read transaction that keeps partition maintenance waiting, for hours.
     */
    @WithDefault("PT10M")
    Duration maxDuration();
  }
}
