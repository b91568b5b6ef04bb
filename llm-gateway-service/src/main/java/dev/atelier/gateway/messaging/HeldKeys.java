package dev.atelier.gateway.messaging;

import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;

/**
 * The Idempotency-Keys this gateway process holds for the calls it is making, marked in its record
 * journal directory ({@code held-keys.slots}, a {@link MarkFile}: a memory write per key, no system
 * call) so that a process restarted on the directory, which its lock tells that this one is dead,
 * lets go of them at once: a repeat of such a call is then made as soon as the gateway is back
 * instead of after the takeover time. Keys held by a replica that does not come back on its
 * directory (another machine, a new pod) are taken over once unrenewed, as before.
 */
@ApplicationScoped
public class HeldKeys {

  static final String NAME = "held-keys";

  /** Team, key (at most 255 ASCII characters) and claim: most marks fit a slot. */
  static final int SLOT_BYTES = 512;

  private volatile MarkFile marks;

  /**
   * Opens the marks in {@code dir}, which this process holds the lock of, and returns those an
   * earlier process left: the keys it held when it died. They are cleared here, before this process
   * marks any, so a kill before they are let go leaves them to be taken over once unrenewed.
   */
  List<byte[]> open(Path dir, int slots) throws IOException {
    MarkFile m = MarkFile.open(dir, NAME, slots, SLOT_BYTES);
    List<byte[]> left = m.leftovers();
    m.forgetLeftovers();
    marks = m;
    return left;
  }

  /**
   * Marks a key as held until the returned mark is cleared: should this process die first, the next
   * one on its journal directory gets {@code payload} back ({@link LeftoverKeys}). A memory write;
   * unmarked before the journal directory is open.
   *
   * @param claimId names the mark's own file, if it needs one
   */
  public CallMark hold(UUID claimId, byte[] payload) {
    MarkFile m = marks;
    return m == null ? CallMark.NONE : m.mark(claimId, payload);
  }

  /** Keys marked and not cleared; 0 before the journal directory is open. */
  public int held() {
    MarkFile m = marks;
    return m == null ? 0 : m.marked();
  }

  void close() throws IOException {
    MarkFile m = marks;
    if (m != null) {
      m.close(); // keys still held are let go by the next start
    }
  }
}
