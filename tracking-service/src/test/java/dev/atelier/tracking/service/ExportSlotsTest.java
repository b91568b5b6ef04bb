package dev.atelier.tracking.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.atelier.kit.problem.ProblemException;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** How many CSV exports run at once, and for how long. */
class ExportSlotsTest {

  private final AtomicLong now = new AtomicLong();
  private final ExportSlots slots = new ExportSlots(2, Duration.ofMinutes(10), now::get);

  @Test
  void aThirdExportIsRefused503UntilOneEnds() {
    ExportSlots.Slot first = slots.take();
    slots.take();

    assertThatThrownBy(slots::take)
        .isInstanceOfSatisfying(
            ProblemException.class,
            e -> {
              assertThat(e.status()).isEqualTo(503);
              assertThat(e.slug()).isEqualTo("export-busy");
              assertThat(e.getMessage()).contains("TRACKING_EXPORT_CONCURRENCY");
              assertThat(e.retryAfter()).isPositive();
            });
    first.close();
    first.close(); // once only: a second close frees no other export's slot
    slots.take();
    assertThatThrownBy(slots::take).isInstanceOf(ProblemException.class);
  }

  @Test
  void aSlotWhoseExportNeverStartedIsTakenBackARunningOneIsNot() {
    ExportSlots.Slot running = slots.take();
    running.start(() -> {});
    slots.take(); // its answer was never written
    now.addAndGet(ExportSlots.START_GRACE.toNanos() + 1);

    slots.take(); // in the never-started one's place
    assertThatThrownBy(slots::take).isInstanceOf(ProblemException.class);
    // Past its maximum duration a running export keeps its slot until it has ended: its
    // connection is held until then.
    now.addAndGet(Duration.ofMinutes(11).toNanos());
    assertThat(slots.taken()).isEqualTo(2);
    running.close();
    assertThat(slots.taken()).isEqualTo(1);
  }

  @Test
  void betweenRowsAnExportPastItsMaximumDurationFails() throws Exception {
    ExportSlots.Slot slot = slots.take();
    now.addAndGet(Duration.ofMinutes(10).toNanos());
    slot.check(); // at the limit still

    now.addAndGet(1);
    assertThatThrownBy(slot::check)
        .isInstanceOf(IOException.class)
        .hasMessageContaining("TRACKING_EXPORT_MAX_DURATION");
  }

  @Test
  void anExportStillRunningAtItsMaximumDurationIsCutOffOneThatEndedIsNot() {
    ExportSlots timed = new ExportSlots(2, Duration.ofMillis(200), System::nanoTime);
    AtomicInteger stuckCut = new AtomicInteger();
    AtomicInteger endedCut = new AtomicInteger();
    timed.take().start(stuckCut::incrementAndGet); // a client that stopped reading
    ExportSlots.Slot ended = timed.take();
    ended.start(endedCut::incrementAndGet);
    ended.close();

    await().atMost(Duration.ofSeconds(5)).until(() -> stuckCut.get() == 1);
    await().during(Duration.ofMillis(300)).until(() -> endedCut.get() == 0);
    assertThat(stuckCut).hasValue(1);
  }
}
