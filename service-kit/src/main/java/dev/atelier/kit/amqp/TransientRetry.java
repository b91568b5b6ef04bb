package dev.atelier.kit.amqp;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import java.net.ConnectException;
import java.sql.SQLException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTransientException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Collections;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.jboss.logging.Logger;

/**
 * Runs a message handler again, in place, while it fails transiently: the database unreachable,
 * restarting or out of connections, or its transaction aborted by a deadlock or a serialization
 * conflict. Returning such a message to the queue would only spend its deliveries: every queue
 * dead-letters a message after {@link dev.atelier.contracts.QueueSpec#DELIVERY_LIMIT} of them, and
 * a database restart outlasts that many redeliveries (each failing within a second or two). Held
 * here, the message stays unacknowledged — the broker keeps it if this process dies — and the
 * channel's later messages wait behind it, as they would have to anyway.
 *
 * <p>Waits start at {@code delay} and double up to {@code maxDelay}; the retries go on until the
 * handler succeeds, fails otherwise (then the caller returns the message to the queue as before),
 * or the caller gives up (shutting down, channel closed).
 *
 * <p>Per queue, {@code atelier.messaging.handlers.held} counts the handlers being retried now (an
 * alert fires while it stays above zero) and {@code atelier.messaging.transient.failures} the
 * transient failures so far.
 */
@Singleton
class TransientRetry {

  private static final Logger LOG = Logger.getLogger(TransientRetry.class);

  /** How often a failure that goes on is logged again. */
  private static final Duration REPORT_EVERY = Duration.ofSeconds(30);

  /** Causes looked at before a failure is taken for a lasting one. */
  private static final int MAX_CAUSES = 32;

  /** Longest single sleep, so giving up is noticed soon. */
  private static final long SLICE_NANOS = Duration.ofMillis(100).toNanos();

  /** A handler call that may throw. */
  @FunctionalInterface
  interface Attempt {
    void run() throws Exception;
  }

  private final Duration delay;
  private final Duration maxDelay;
  private final MeterRegistry meters;
  private final Map<String, Held> held = new ConcurrentHashMap<>();

  @Inject
  TransientRetry(RabbitConfig config, MeterRegistry meters) {
    this(config.transientRetryDelay(), config.transientRetryMaxDelay(), meters);
  }

  TransientRetry(Duration delay, Duration maxDelay, MeterRegistry meters) {
    if (delay.isNegative() || delay.isZero() || maxDelay.compareTo(delay) < 0) {
      throw new IllegalArgumentException("need 0 < delay <= maxDelay");
    }
    this.delay = delay;
    this.maxDelay = maxDelay;
    this.meters = meters;
  }

  /** The meters of one queue, registered once, before its first message (so they read 0). */
  private record Held(AtomicInteger now, Counter failures) {}

  /** Registers {@code queue}'s meters; consumers call it when they start consuming. */
  void register(String queue) {
    held(queue);
  }

  private Held held(String queue) {
    return held.computeIfAbsent(
        queue,
        q ->
            new Held(
                meters.gauge(
                    "atelier.messaging.handlers.held", Tags.of("queue", q), new AtomicInteger()),
                Counter.builder("atelier.messaging.transient.failures")
                    .description(
                        "Handler runs that failed transiently (database unreachable, deadlock)"
                            + " and were retried in place")
                    .tag("queue", q)
                    .register(meters)));
  }

  /**
   * Runs {@code attempt} until it succeeds, throws a failure that is not transient (rethrown), or
   * {@code giveUp} is true after a transient failure (that failure is rethrown).
   *
   * @param queue the queue the work came from, for the log and the meters
   * @param what names the work in the log, e.g. {@code a message}
   */
  void run(String queue, String what, Attempt attempt, BooleanSupplier giveUp) throws Exception {
    // Looked up on the first failure only (the usual run is one successful call); non-null while
    // this run counts itself among the queue's held handlers.
    Held meters = null;
    long started = 0;
    long lastReport = 0;
    long wait = delay.toNanos();
    try {
      for (int attempts = 1; ; attempts++) {
        try {
          attempt.run();
          if (meters != null) {
            LOG.infof(
                "handled %s from %s after %d attempts in %d ms",
                what, queue, attempts, (System.nanoTime() - started) / 1_000_000);
          }
          return;
        } catch (Exception e) {
          if (!isTransient(e) || giveUp.getAsBoolean()) {
            throw e;
          }
          long now = System.nanoTime();
          if (meters == null) {
            meters = held(queue);
            meters.now().incrementAndGet();
            started = now;
            lastReport = now;
            LOG.warnf(
                "handling %s from %s failed transiently, retrying in place until it succeeds: %s",
                what, queue, e.toString());
          } else if (now - lastReport >= REPORT_EVERY.toNanos()) {
            lastReport = now;
            LOG.warnf(
                "handling %s from %s still fails after %d attempts in %d s: %s",
                what, queue, attempts, (now - started) / 1_000_000_000, e.toString());
          }
          meters.failures().increment();
          if (!sleep(wait, giveUp)) {
            throw e;
          }
          wait = Math.min(wait * 2, maxDelay.toNanos());
        }
      }
    } finally {
      if (meters != null) {
        meters.now().decrementAndGet();
      }
    }
  }

  /** Sleeps {@code nanos} unless giving up first; false when it gave up or was interrupted. */
  private static boolean sleep(long nanos, BooleanSupplier giveUp) {
    long deadline = System.nanoTime() + nanos;
    for (long left = nanos; left > 0; left = deadline - System.nanoTime()) {
      if (giveUp.getAsBoolean()) {
        return false;
      }
      LockSupport.parkNanos(Math.min(left, SLICE_NANOS));
      if (Thread.currentThread().isInterrupted()) {
        return false;
      }
    }
    return !giveUp.getAsBoolean();
  }

  /**
   * Whether a failure, or any of its causes, is one that goes away by itself: a connection that
   * cannot be made or was lost (SQLSTATE class 08, {@link SQLTransientException}, {@link
   * SQLRecoverableException}, a refused connection, a pool's acquisition timeout), a server
   * shutting down, starting or out of resources (57P01–03, 57P05, class 53), a deadlock (40P01) or
   * a serialization failure (40001).
   */
  static boolean isTransient(Throwable failure) {
    Deque<Throwable> todo = new ArrayDeque<>();
    Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
    todo.add(failure);
    while (!todo.isEmpty() && seen.size() < MAX_CAUSES) {
      Throwable t = todo.poll();
      if (!seen.add(t)) {
        continue;
      }
      if (t instanceof SQLTransientException
          || t instanceof SQLRecoverableException
          || t instanceof ConnectException
          || t instanceof TimeoutException) {
        return true;
      }
      if (t instanceof SQLException sql) {
        if (transientState(sql.getSQLState()) || poolTimeout(sql)) {
          return true;
        }
        if (sql.getNextException() != null) {
          todo.add(sql.getNextException());
        }
      }
      if (t.getCause() != null) {
        todo.add(t.getCause());
      }
      Collections.addAll(todo, t.getSuppressed());
    }
    return false;
  }

  /**
   * Agroal's "Sorry, acquisition timeout!": every connection of the pool stayed busy for the
   * acquisition timeout (the REST API's reads, say). A plain SQLException, no SQLState, no cause:
   * only its message tells it apart.
   */
  private static boolean poolTimeout(SQLException sql) {
    String message = sql.getMessage();
    return sql.getSQLState() == null
        && message != null
        && message.toLowerCase(Locale.ROOT).contains("acquisition timeout");
  }

  private static boolean transientState(String state) {
    if (state == null || state.length() != 5) {
      return false;
    }
    return state.startsWith("08")
        || state.startsWith("53")
        || state.equals("40001")
        || state.equals("40P01")
        || state.equals("57P01")
        || state.equals("57P02")
        || state.equals("57P03")
        || state.equals("57P05");
  }
}
