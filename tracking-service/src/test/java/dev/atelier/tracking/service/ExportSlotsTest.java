package dev.atelier.tracking.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.atelier.kit.problem.ProblemException;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** How many CSV exports run at once, and for how long. */
class ExportSlotsTest {

  private final AtomicLong now = new AtomicLong();
  private final ExportSlots slots = new ExportSlots(2, Duration.ofMinutes(10), now::get);

  @Test
  void aThirdExportIsRefused429UntilOneEnds() {
    ExportSlots.Slot first = slots.take();
    slots.take();

    assertThatThrownBy(slots::take)
        .isInstanceOfSatisfying(
            ProblemException.class,
            e -> {
              assertThat(e.status()).isEqualTo(429);
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
  void anExportIsCutOffAtItsMaximumDurationAndItsSlotTakenBackIfItNeverEnds() throws Exception {
    ExportSlots.Slot running = slots.take();
    slots.take(); // never ends: its answer was never written
    now.addAndGet(Duration.ofMinutes(10).toNanos());
    running.check(); // at the limit still

    now.addAndGet(1);
    assertThatThrownBy(running::check)
        .isInstanceOf(IOException.class)
        .hasMessageContaining("TRACKING_EXPORT_MAX_DURATION");
    // Both slots past their time: taken back, so new exports run.
    slots.take();
    slots.take();
    assertThatThrownBy(slots::take).isInstanceOf(ProblemException.class);
  }
}
