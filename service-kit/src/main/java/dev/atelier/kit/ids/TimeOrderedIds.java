package dev.atelier.kit.ids;

import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Time-ordered UUIDs (RFC 9562 version 7): 48 bits of Unix milliseconds, then 74 random bits.
 *
 * <p>For ids of records that are written at high rate (LLM calls): consecutive ids land next to
 * each other in a B-tree index instead of at random pages, and generating one takes no lock. {@link
 * UUID#randomUUID()} draws from a shared {@code SecureRandom}, which is slower and contended under
 * load. The random bits come from {@link ThreadLocalRandom}: these ids are unique, not secret, and
 * must not be used as capabilities.
 */
public final class TimeOrderedIds {

  private TimeOrderedIds() {}

  /** A new version 7 UUID for the current time. */
  public static UUID next() {
    return at(System.currentTimeMillis());
  }

  /** A new version 7 UUID for the given Unix time in milliseconds. */
  public static UUID at(long epochMillis) {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    long msb = (epochMillis & 0xFFFF_FFFF_FFFFL) << 16 | 0x7000L | (random.nextLong() & 0x0FFFL);
    long lsb = random.nextLong() & 0x3FFF_FFFF_FFFF_FFFFL | 0x8000_0000_0000_0000L;
    return new UUID(msb, lsb);
  }
}
