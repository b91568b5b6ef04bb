package dev.atelier.kit.ids;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class TimeOrderedIdsTest {

  @Test
  void isAnRfc9562Version7IdCarryingItsMillisecond() {
    long millis = 1_764_806_400_123L; // 2025-12-04T00:00:00.123Z
    UUID id = TimeOrderedIds.at(millis);

    assertThat(id.version()).isEqualTo(7);
    assertThat(id.variant()).isEqualTo(2);
    assertThat(id.getMostSignificantBits() >>> 16).isEqualTo(millis);
    // The textual form starts with the millisecond in hex, so ids sort by time as text too.
    assertThat(id.toString().replace("-", "")).startsWith(String.format("%012x", millis));
  }

  @Test
  void idsOfLaterMillisecondsSortAfterEarlierOnes() {
    UUID earlier = TimeOrderedIds.at(1_000_000L);
    UUID later = TimeOrderedIds.at(1_000_001L);

    assertThat(later.toString()).isGreaterThan(earlier.toString());
  }

  @Test
  void idsOfOneMillisecondDiffer() {
    Set<UUID> ids = new HashSet<>();
    for (int i = 0; i < 100_000; i++) {
      ids.add(TimeOrderedIds.at(42L));
    }
    assertThat(ids).hasSize(100_000);
  }
}
