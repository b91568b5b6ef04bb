package dev.atelier.contracts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ArtifactRefTest {

  @Test
  void parsesAndPrintsNameAtVersion() {
    ArtifactRef ref = ArtifactRef.parse("test-plan.md@12");

    assertThat(ref.name()).isEqualTo("test-plan.md");
    assertThat(ref.version()).isEqualTo(12);
    assertThat(ref).hasToString("test-plan.md@12");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "analysis",
        "analysis@",
        "@1",
        "analysis@0",
        "analysis@x",
        "a@b@1",
        "ana\u0000lysis@1",
        "ana\nlysis@1"
      })
  void rejectsAnythingElse(String text) {
    assertThatThrownBy(() -> ArtifactRef.parse(text)).isInstanceOf(IllegalArgumentException.class);
  }
}
