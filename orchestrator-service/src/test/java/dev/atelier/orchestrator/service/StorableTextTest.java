package dev.atelier.orchestrator.service;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class StorableTextTest {

  @Test
  void keepsOrdinaryTextAsItIs() {
    assertThat(ResultService.storable("changes_requested", ResultService.MAX_CODE))
        .isEqualTo("changes_requested");
    assertThat(ResultService.storable(null, ResultService.MAX_CODE)).isNull();
  }

  @Test
  void replacesNulWithTheReplacementCharacter() {
    assertThat(ResultService.storable("a\0b\0", 10)).isEqualTo("a\uFFFDb\uFFFD");
  }

  @Test
  void cutsLongTextToTheLimitWithAnEllipsis() {
    String cut = ResultService.storable("x".repeat(5000), ResultService.MAX_MESSAGE);

    assertThat(cut).hasSize(ResultService.MAX_MESSAGE).endsWith("x\u2026");
    assertThat(ResultService.storable("x".repeat(10), 10)).isEqualTo("x".repeat(10));
    assertThat(ResultService.storable("x".repeat(11), 10)).isEqualTo("x".repeat(9) + "\u2026");
  }

  @Test
  void neverCutsInsideASurrogatePair() {
    // "😀" is two chars; a cut after its high surrogate would leave a lone one.
    String text = "x".repeat(8) + "😀" + "tail";

    String cut = ResultService.storable(text, 10);

    assertThat(cut).isEqualTo("x".repeat(8) + "\u2026");
    assertThat(ResultService.storable("x".repeat(7) + "😀" + "tail", 10))
        .isEqualTo("x".repeat(7) + "😀" + "\u2026");
  }
}
