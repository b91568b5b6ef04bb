package dev.atelier.gateway.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

class ModelNameTest {

  private static final ObjectMapper MAPPER = new ObjectMapper();

  private static ObjectNode body(String model) {
    return MAPPER.createObjectNode().put("model", model);
  }

  @Test
  void aNameWithinTheLimitsIsTakenAsItIs() {
    assertThat(ModelName.require(body("openai/gpt-4o-mini"))).isEqualTo("openai/gpt-4o-mini");
    assertThat(ModelName.require(body("m".repeat(256)))).hasSize(256);
    assertThat(ModelName.require(body("modèle-ünïcode"))).isEqualTo("modèle-ünïcode");
  }

  @Test
  void controlCharactersTooLongBlankOrMissingAre400OnModel() {
    for (ObjectNode bad :
        new ObjectNode[] {
          body("gpt\0"),
          body("gpt\t4o"),
          body("gpt\u00854o"),
          body("m".repeat(257)),
          body("gpt-4o\ud800x"),
          body("\udc00gpt"),
          body("gpt\ud83d"),
          body(" "),
          MAPPER.createObjectNode(),
          MAPPER.createObjectNode().put("model", 4)
        }) {
      assertThatThrownBy(() -> ModelName.require(bad))
          .as(bad.toString())
          .isInstanceOfSatisfying(
              GatewayException.class,
              e -> {
                assertThat(e.status()).isEqualTo(400);
                assertThat(e.param()).isEqualTo("model");
              });
    }
  }

  @Test
  void aReportedNameLosesItsControlCharactersAndIsCutAt256() {
    assertThat(ModelName.reported(null)).isNull();
    assertThat(ModelName.reported("o4-mini\0-2025\7")).isEqualTo("o4-mini-2025");
    assertThat(ModelName.reported("\0\n")).isNull();
    assertThat(ModelName.reported("x".repeat(300))).hasSize(256);
    // A cut that would split a surrogate pair drops its first half rather than keep it alone.
    String cut = ModelName.reported("x".repeat(255) + "\uD83D\uDE00");
    assertThat(cut).isEqualTo("x".repeat(255));
    // Halves of pairs are dropped wherever they are; whole pairs are kept.
    assertThat(ModelName.reported("a\ud800b\udc00c\uD83D\uDE00d\uD83D"))
        .isEqualTo("abc\uD83D\uDE00d");
  }

  @Test
  void aWholeSurrogatePairIsAName() {
    assertThat(ModelName.require(body("model-\uD83D\uDE00"))).isEqualTo("model-\uD83D\uDE00");
  }
}
