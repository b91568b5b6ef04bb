package dev.atelier.kit.timers;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * Background work on a thread of its own: refreshing a cache, renewing leases, deleting what has
 * expired. Each timer is one daemon thread (it never holds a stopping JVM up) with a name that says
 * what it does in thread dumps and profiles.
 */
public final class Timers {

  private static final Logger LOG = Logger.getLogger(Timers.class);

  private Timers() {}

  /** A scheduler of one daemon thread named {@code name}, for tasks scheduled later. */
  public static ScheduledExecutorService daemon(String name) {
    return Executors.newSingleThreadScheduledExecutor(
        r -> {
          Thread t = new Thread(r, name);
          t.setDaemon(true);
          return t;
        });
  }

  /**
   * Runs {@code task} every {@code interval} (between the end of one run and the start of the
   * next), the first time one interval from now, on a daemon thread named {@code name}. A run that
   * throws is logged and the next one runs all the same: a plain scheduled executor would stop the
   * task for good at its first exception, silently. Shut the returned executor down when the
   * service stops.
   */
  public static ScheduledExecutorService every(String name, Duration interval, Runnable task) {
    ScheduledExecutorService timer = daemon(name);
    long every = Math.max(1, interval.toMillis());
    timer.scheduleWithFixedDelay(
        () -> {
          try {
            task.run();
          } catch (RuntimeException e) {
            LOG.errorf(e, "%s failed; it runs again in %s", name, interval);
          }
        },
        every,
        every,
        TimeUnit.MILLISECONDS);
    return timer;
  }
}
