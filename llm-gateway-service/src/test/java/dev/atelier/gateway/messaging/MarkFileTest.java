package dev.atelier.gateway.messaging;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The marks of calls at a provider: what a process that dies without clearing them leaves for the
 * next one, in slots and in overflow files, with torn slots skipped.
 */
class MarkFileTest {

  static final int SLOT = 64;

  @TempDir Path dir;

  private static byte[] payload(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  private static List<String> texts(List<byte[]> payloads) {
    return payloads.stream().map(p -> new String(p, StandardCharsets.UTF_8)).toList();
  }

  @Test
  void marksNotClearedAreLeftForTheNextProcess() throws IOException {
    MarkFile first = MarkFile.open(dir, MarkFile.IN_FLIGHT, 4, SLOT);
    assertThat(first.leftovers()).isEmpty();
    CallMark a = first.mark(UUID.randomUUID(), payload("call-a"));
    first.mark(UUID.randomUUID(), payload("call-b"));
    first.mark(UUID.randomUUID(), payload("call-c"));
    assertThat(first.marked()).isEqualTo(3);
    a.clear();
    a.clear(); // a second clear does nothing
    assertThat(first.marked()).isEqualTo(2);
    // The process dies: nothing is closed, b and c were never cleared.

    MarkFile next = MarkFile.open(dir, MarkFile.IN_FLIGHT, 4, SLOT);
    assertThat(texts(next.leftovers())).containsExactlyInAnyOrder("call-b", "call-c");
    next.forgetLeftovers();
    assertThat(next.leftovers()).isEmpty();
    // The new process starts with every slot free.
    for (int i = 0; i < 4; i++) {
      next.mark(UUID.randomUUID(), payload("again-" + i));
    }
    assertThat(texts(MarkFile.open(dir, MarkFile.IN_FLIGHT, 4, SLOT).leftovers()))
        .containsExactlyInAnyOrder("again-0", "again-1", "again-2", "again-3");
  }

  @Test
  void aClearedSlotIsTakenAgainFirstSoFewPagesAreTouched() throws IOException {
    MarkFile marks = MarkFile.open(dir, MarkFile.IN_FLIGHT, 1000, SLOT);
    for (int i = 0; i < 500; i++) {
      marks.mark(UUID.randomUUID(), payload("call-" + i)).clear();
    }
    CallMark last = marks.mark(UUID.randomUUID(), payload("the last"));
    // Every mark reused slot 0: nothing was ever written past it.
    byte[] table = Files.readAllBytes(MarkFile.slotsFile(dir, MarkFile.IN_FLIGHT));
    for (int i = SLOT; i < table.length; i++) {
      assertThat(table[i]).as("byte %d", i).isZero();
    }
    assertThat(texts(MarkFile.open(dir, MarkFile.IN_FLIGHT, 1000, SLOT).leftovers()))
        .containsExactly("the last");
    last.clear();
  }

  @Test
  void aLargePayloadOrAFullTableTakesAFileOfItsOwn() throws IOException {
    MarkFile marks = MarkFile.open(dir, MarkFile.IN_FLIGHT, 2, SLOT);
    String large = "x".repeat(SLOT);
    CallMark big = marks.mark(UUID.randomUUID(), payload(large));
    List<CallMark> held = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      held.add(marks.mark(UUID.randomUUID(), payload("call-" + i)));
    }
    assertThat(marks.marked()).isEqualTo(5);
    try (var files = Files.list(dir.resolve(MarkFile.IN_FLIGHT))) {
      assertThat(files.count()).as("the large one and the two beyond the slots").isEqualTo(3);
    }
    assertThat(texts(MarkFile.open(dir, MarkFile.IN_FLIGHT, 2, SLOT).leftovers()))
        .containsExactlyInAnyOrder(large, "call-0", "call-1", "call-2", "call-3");

    big.clear();
    held.forEach(CallMark::clear);
    assertThat(marks.marked()).isZero();
    try (var files = Files.list(dir.resolve(MarkFile.IN_FLIGHT))) {
      assertThat(files.count()).isZero();
    }
    assertThat(MarkFile.open(dir, MarkFile.IN_FLIGHT, 2, SLOT).leftovers()).isEmpty();
  }

  @Test
  void aTornSlotIsSkippedAndTheRestRead() throws IOException {
    MarkFile marks = MarkFile.open(dir, MarkFile.IN_FLIGHT, 3, SLOT);
    marks.mark(UUID.randomUUID(), payload("whole"));
    marks.mark(UUID.randomUUID(), payload("torn"));
    marks.mark(UUID.randomUUID(), payload("too long"));
    try (RandomAccessFile f = new RandomAccessFile(dir.resolve("in-flight.slots").toFile(), "rw")) {
      // Taken last in, first out: "whole" is in slot 0, "torn" in slot 1, "too long" in slot 2.
      f.seek(SLOT + 8);
      f.write('T'); // a payload byte changed after its CRC was written
      f.seek(2 * SLOT);
      f.writeInt(SLOT); // a length no slot can hold
    }
    assertThat(texts(MarkFile.open(dir, MarkFile.IN_FLIGHT, 3, SLOT).leftovers()))
        .containsExactly("whole");
  }

  @Test
  void aTornOverflowFileIsSkipped() throws IOException {
    MarkFile marks = MarkFile.open(dir, MarkFile.IN_FLIGHT, 1, SLOT);
    marks.mark(UUID.randomUUID(), payload("in the slot"));
    marks.mark(UUID.randomUUID(), payload("in a file"));
    Path overflow = dir.resolve(MarkFile.IN_FLIGHT);
    // What a machine crash can leave of a renamed file: nothing, or a cut frame.
    Files.write(overflow.resolve(UUID.randomUUID() + ".call"), new byte[0]);
    Files.write(overflow.resolve(UUID.randomUUID() + ".call"), new byte[] {0, 0, 0, 9, 1, 2});
    assertThat(texts(MarkFile.open(dir, MarkFile.IN_FLIGHT, 1, SLOT).leftovers()))
        .containsExactlyInAnyOrder("in the slot", "in a file");
  }

  @Test
  void startingAgainTouchesOnlyTheSlotsInUse() throws Exception {
    MarkFile marks = MarkFile.open(dir, MarkFile.IN_FLIGHT, 4096, 2048); // an 8 MiB file, sparse
    marks.mark(UUID.randomUUID(), payload("left"));
    MarkFile next = MarkFile.open(dir, MarkFile.IN_FLIGHT, 4096, 2048);
    assertThat(next.leftovers()).hasSize(1);
    next.forgetLeftovers();
    Process stat =
        new ProcessBuilder(
                "stat", "-c", "%b", MarkFile.slotsFile(dir, MarkFile.IN_FLIGHT).toString())
            .start();
    long blocks = Long.parseLong(new String(stat.getInputStream().readAllBytes()).trim());
    assertThat(stat.waitFor()).isZero();
    assertThat(blocks * 512).as("bytes allocated on disk").isLessThan(64 * 1024);
  }

  @Test
  void fewerSlotsThanTheEarlierRunStillReadsEveryMark() throws IOException {
    MarkFile before = MarkFile.open(dir, MarkFile.IN_FLIGHT, 8, SLOT);
    for (int i = 0; i < 8; i++) {
      before.mark(UUID.randomUUID(), payload("call-" + i));
    }
    MarkFile after = MarkFile.open(dir, MarkFile.IN_FLIGHT, 2, SLOT);
    assertThat(after.leftovers()).hasSize(8);
    after.forgetLeftovers();
    assertThat(MarkFile.open(dir, MarkFile.IN_FLIGHT, 2, SLOT).leftovers()).isEmpty();
  }
}
