package dev.atelier.worker.messaging;

import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Counts the steps being handled, so shutdown can wait for them. Once draining starts no new step
 * is admitted: a delivery that arrives then is held until the broker connection closes and then
 * abandoned, which returns it to its queue untouched (a negative acknowledgement instead would
 * count against the queue's delivery limit, and be redelivered at once in a tight loop).
 */
@ApplicationScoped
public class InFlightSteps {

  private final CountDownLatch connectionClosed = new CountDownLatch(1);
  private int running;
  private boolean draining;

  /** Admits a step; {@code false} once draining has started. */
  public synchronized boolean enter() {
    if (draining) {
      return false;
    }
    running++;
    return true;
  }

  public synchronized void exit() {
    running--;
    notifyAll();
  }

  public synchronized boolean draining() {
    return draining;
  }

  public synchronized int running() {
    return running;
  }

  /**
   * Stops admitting steps and waits up to {@code timeout} for the running ones to finish.
   *
   * @return whether all finished in time
   */
  public synchronized boolean drain(Duration timeout) throws InterruptedException {
    draining = true;
    long deadline = System.nanoTime() + timeout.toNanos();
    while (running > 0) {
      long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
      if (left <= 0) {
        return false;
      }
      wait(left);
    }
    return true;
  }

  /** Called when the broker connection has closed: held deliveries may now be abandoned. */
  public void connectionClosed() {
    connectionClosed.countDown();
  }

  /**
   * Holds a delivery that arrived while draining until the connection closes, at most {@code max}.
   */
  public void awaitConnectionClosed(Duration max) throws InterruptedException {
    connectionClosed.await(max.toMillis(), TimeUnit.MILLISECONDS);
  }
}
