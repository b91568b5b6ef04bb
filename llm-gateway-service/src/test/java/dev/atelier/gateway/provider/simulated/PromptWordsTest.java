package dev.atelier.gateway.provider.simulated;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The one-pass word scanner finds the same words as the definition it replaced: split on runs of
 * anything but {@code [\p{L}\p{N}'-]}, strip leading and trailing apostrophes and hyphens, keep
 * words of three or more characters that are not stop words.
 */
class PromptWordsTest {

  /** The definition, with regular expressions, as an independent reference. */
  private static List<String> reference(String text) {
    List<String> found = new ArrayList<>();
    for (String raw : text.split("[^\\p{L}\\p{N}'-]+")) {
      String w = raw.replaceAll("^['-]+|['-]+$", "");
      if (w.length() >= 3 && !PromptWords.STOP.contains(w.toLowerCase(Locale.ROOT))) {
        found.add(w);
      }
    }
    return found;
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "Invoice export for accountants: export invoices as CSV every month.",
        "  leading and trailing  ",
        "'quoted' --dashed-- it's rock-'n'-roll o'clock ''' --- '-'",
        "numbers 2024 v1.2.3 ½ Ⅻ ٣٤٥ third-party 3rd",
        "Ünïcödé wörds, 日本語のテキスト, русский текст, emoji 🙂 between, 𝒜𝒷𝒸 math letters",
        "tabs\tnew\nlines\r\nand_underscores under_score snake_case",
        "",
        "ab cd ef abc",
        "THE The the AND And Order ORDER tracking"
      })
  void findsTheWordsOfTheRegularExpressionDefinition(String text) {
    assertThat(PromptWords.meaningfulWords(text)).isEqualTo(reference(text));
  }

  @Test
  void findsTheSameWordsAsTheDefinitionOnRandomText() {
    String alphabet = "abcXYZ019'-_ .,:;!?\t\nÉé日½Ⅻ🙂𝒜";
    int[] cps = alphabet.codePoints().toArray();
    Random random = new Random(42);
    for (int n = 0; n < 2_000; n++) {
      StringBuilder sb = new StringBuilder();
      int len = random.nextInt(60);
      for (int i = 0; i < len; i++) {
        sb.appendCodePoint(cps[random.nextInt(cps.length)]);
      }
      String text = sb.toString();
      assertThat(PromptWords.meaningfulWords(text)).as("%s", text).isEqualTo(reference(text));
    }
  }

  @Test
  void dropsStopWordsInAnyCaseAndShortWords() {
    assertThat(PromptWords.meaningfulWords("The AND please Write a to of Checkout flow ok"))
        .containsExactly("Checkout", "flow");
    for (String stop : Set.of("the", "THE", "Requirements", "JSON", "schema")) {
      assertThat(PromptWords.meaningfulWords(stop)).as(stop).isEmpty();
    }
    assertThat(PromptWords.meaningfulWords("Résumé").get(0).toLowerCase(Locale.ROOT))
        .isEqualTo("résumé");
  }

  @Test
  void topicIsTheFirstTwoMeaningfulWords() {
    PromptWords words = new PromptWords("Please write the order tracking page for our shop");
    assertThat(words.topic()).isEqualTo("Order tracking");
    assertThat(words.size()).isEqualTo(4);
    assertThat(new PromptWords("a to of").topic()).isEqualTo("General request");
    assertThat(new PromptWords(null).isEmpty()).isTrue();
  }
}
