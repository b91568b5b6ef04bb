package dev.atelier.tracking.service;

import dev.atelier.tracking.config.TrackingConfig;
import dev.atelier.tracking.repository.DataAccessException;
import dev.atelier.tracking.repository.LedgerPartitions;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.scheduler.Scheduled;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.interceptor.Interceptor;
import jakarta.transaction.Transactional;
import java.time.Clock;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.jboss.logging.Logger;

/**
 * Keeps the ledger's monthly partitions ahead of the data: at start-up (before the consumers start,
 * see {@link Priority}) and every day, it creates those missing from {@code monthsBehind} months
 * ago to {@code monthsAhead} months ahead. Running daily means a month boundary never finds its
 * partition missing even if the service runs for months without a restart.
 */
@ApplicationScoped
public class PartitionMaintenance {

  /** After DatabaseBootstrap (PLATFORM_BEFORE) has migrated, before the consumers start. */
  public static final int STARTUP_PRIORITY = Interceptor.Priority.APPLICATION;

  private static final Logger LOG = Logger.getLogger(PartitionMaintenance.class);

  private final LedgerPartitions partitions;
  private final TrackingConfig config;
  private final Clock clock = Clock.systemUTC();

  PartitionMaintenance(LedgerPartitions partitions, TrackingConfig config) {
    this.partitions = partitions;
    this.config = config;
  }

  void onStart(@Observes @Priority(STARTUP_PRIORITY) StartupEvent event) {
    ensureCurrent();
  }

  @Scheduled(
      identity = "ledger-partitions",
      cron = "${tracking.partitions.cron:0 17 3 * * ?}",
      timeZone = "UTC",
      concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
  void daily() {
    ensureCurrent();
  }

  /**
   * Creates the partitions missing around the current month, each in its own short transaction. One
   * whose lock is not granted within {@code tracking.partitions.lock-timeout} (a long reader of the
   * ledger holds it off) is skipped, to be retried on the next run: meanwhile its month's rows go
   * to the default partition, and ingest never waits longer than the timeout.
   *
   * @return the months created
   */
  public List<YearMonth> ensureCurrent() {
    YearMonth now = YearMonth.now(clock.withZone(ZoneOffset.UTC));
    YearMonth first = now.minusMonths(config.partitions().monthsBehind());
    YearMonth last = now.plusMonths(config.partitions().monthsAhead());
    List<YearMonth> created = new ArrayList<>();
    for (YearMonth m = first; !m.isAfter(last); m = m.plusMonths(1)) {
      YearMonth month = m;
      try {
        if (QuarkusTransaction.requiringNew().call(() -> ensure(month))) {
          created.add(month);
        }
      } catch (DataAccessException e) {
        LOG.warnf(
            "could not create ledger partition %s now, will retry on the next run: %s",
            LedgerPartitions.name(month), e.getMessage());
      }
    }
    return created;
  }

  /**
   * Creates {@code month}'s partition if it does not exist, moving that month's rows out of the
   * default partition.
   *
   * @return true when it was created
   */
  @Transactional
  public boolean ensure(YearMonth month) {
    partitions.lock();
    return createIfMissing(month);
  }

  private boolean createIfMissing(YearMonth month) {
    if (partitions.exists(month)) {
      return false;
    }
    int moved = partitions.create(month, config.partitions().lockTimeout().toMillis());
    LOG.infof(
        "created ledger partition %s (%d rows moved from the default partition)",
        LedgerPartitions.name(month), moved);
    return true;
  }
}
