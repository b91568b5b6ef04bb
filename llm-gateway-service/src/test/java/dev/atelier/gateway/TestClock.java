package dev.atelier.gateway;

import jakarta.inject.Singleton;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Replaces the gateway's UTC clock in tests (the production one is a default bean): the system
 * clock unless a test pins it, so budget periods can roll over without waiting for midnight.
 */
@Singleton
public class TestClock extends Clock {

  private final AtomicReference<Instant> pinned = new AtomicReference<>();

  /** Makes every budget period computation see {@code now}. */
  public void set(Instant now) {
    pinned.set(now);
  }

  /** Back to the system clock. */
  public void reset() {
    pinned.set(null);
  }

  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  @Override
  public Clock withZone(ZoneId zone) {
    throw new UnsupportedOperationException("the gateway's clock is UTC");
  }

  @Override
  public Instant instant() {
    Instant p = pinned.get();
    return p != null ? p : Instant.now();
  }
}
