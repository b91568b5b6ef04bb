package dev.atelier.tracking.service;

import dev.atelier.tracking.config.TrackingConfig;
import dev.atelier.tracking.repository.DataAccessException;
import dev.atelier.tracking.repository.LedgerPartitions;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Clock;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.jboss.logging.Logger;

/**
 * Removes raw ledger rows older than {@code tracking.retention.keep} by dropping whole monthly
 * partitions: no mass delete, no bloat, no vacuum debt. A partition goes only when its whole month
 * is older than the cutoff. Each drop is its own short transaction with a lock timeout, so ingest
 * (which keeps running) waits at most that long; a drop that times out is retried on the next run.
 * The usage rollups are not touched: they keep the long history at a few rows per hour.
 */
@ApplicationScoped
public class Retention {

  private static final Logger LOG = Logger.getLogger(Retention.class);

  private final LedgerPartitions partitions;
  private final TrackingConfig config;
  private final Clock clock = Clock.systemUTC();

  Retention(LedgerPartitions partitions, TrackingConfig config) {
    this.partitions = partitions;
    this.config = config;
  }

  @Scheduled(
      identity = "ledger-retention",
      cron = "${tracking.retention.cron:0 47 3 * * ?}",
      timeZone = "UTC",
      concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
  void daily() {
    dropOlderThan(clock.instant().minus(config.retention().keep()));
  }

  /**
   * Drops every monthly partition whose month ends at or before {@code cutoff}, and the default
   * partition's rows older than it.
   *
   * @return the months dropped
   */
  public List<YearMonth> dropOlderThan(Instant cutoff) {
    List<YearMonth> dropped = new ArrayList<>();
    for (YearMonth month : partitions.months()) {
      Instant end = month.plusMonths(1).atDay(1).atStartOfDay(ZoneOffset.UTC).toInstant();
      if (end.isAfter(cutoff)) {
        break;
      }
      try {
        QuarkusTransaction.requiringNew().run(() -> drop(month));
        dropped.add(month);
        LOG.infof("retention: dropped ledger partition %s", LedgerPartitions.name(month));
      } catch (DataAccessException e) {
        LOG.warnf(
            "retention: could not drop %s now, will retry on the next run: %s",
            LedgerPartitions.name(month), e.getMessage());
      }
    }
    int strays =
        QuarkusTransaction.requiringNew().call(() -> partitions.deleteFromDefaultBefore(cutoff));
    if (strays > 0) {
      LOG.infof("retention: deleted %d old rows from the default partition", strays);
    }
    return dropped;
  }

  /** Runs in its own transaction, serialised with partition creation. */
  private void drop(YearMonth month) {
    partitions.lock();
    partitions.drop(month, config.retention().lockTimeout().toMillis());
  }
}
