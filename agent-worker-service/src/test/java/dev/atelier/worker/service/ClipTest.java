package dev.atelier.worker.service;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ClipTest {

  @Test
  void cutsBetweenCharactersNeverInsideASurrogatePair() {
    assertThat(Clip.clip("short", 10)).isEqualTo("short");
    assertThat(Clip.clip("abcdef", 3)).isEqualTo("abc...");
    // The rocket takes chars 2 and 3: a cut at 3 would keep its first half alone.
    assertThat(Clip.clip("ab\uD83D\uDE80cd", 3)).isEqualTo("ab...");
    assertThat(Clip.clip("ab\uD83D\uDE80cd", 4)).isEqualTo("ab\uD83D\uDE80...");
    assertThat(dev.atelier.contracts.Utf16.cutAt("\uD83D\uDE80", 1)).isZero();
  }
}
