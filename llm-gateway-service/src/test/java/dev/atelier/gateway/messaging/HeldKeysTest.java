package dev.atelier.gateway.messaging;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The keys a gateway process holds, found by the next one on its journal directory. */
class HeldKeysTest {

  @TempDir Path dir;

  private static List<String> texts(List<byte[]> payloads) {
    return payloads.stream().map(p -> new String(p, StandardCharsets.UTF_8)).toList();
  }

  @Test
  void theKeysHeldWhenAProcessDiesAreFoundOnceByTheNext() throws Exception {
    HeldKeys first = new HeldKeys();
    assertThat(first.open(dir, 4)).isEmpty();
    CallMark answered = first.hold(UUID.randomUUID(), "answered".getBytes(StandardCharsets.UTF_8));
    first.hold(UUID.randomUUID(), "running".getBytes(StandardCharsets.UTF_8));
    // More than fit the slots, and one larger than a slot: each in a file of its own.
    for (int i = 0; i < 4; i++) {
      first.hold(UUID.randomUUID(), ("more " + i).getBytes(StandardCharsets.UTF_8));
    }
    first.hold(UUID.randomUUID(), "x".repeat(HeldKeys.SLOT_BYTES).getBytes(StandardCharsets.UTF_8));
    answered.clear();
    // Killed here: nothing closed or cleared but the answered call's key.

    HeldKeys second = new HeldKeys();
    assertThat(texts(second.open(dir, 4)))
        .containsExactlyInAnyOrder(
            "running", "more 0", "more 1", "more 2", "more 3", "x".repeat(HeldKeys.SLOT_BYTES));
    second.hold(UUID.randomUUID(), "the second's".getBytes(StandardCharsets.UTF_8)).clear();
    second.close();

    // Found once: the second let go of them, and held nothing when it stopped.
    assertThat(new HeldKeys().open(dir, 4)).isEmpty();
  }

  @Test
  void beforeItsDirectoryIsOpenAKeyIsNotMarked() {
    CallMark mark = new HeldKeys().hold(UUID.randomUUID(), new byte[] {1});
    assertThat(mark).isSameAs(CallMark.NONE);
  }
}
