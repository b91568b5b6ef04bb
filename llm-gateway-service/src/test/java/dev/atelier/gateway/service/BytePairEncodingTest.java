package dev.atelier.gateway.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingRegistry;
import com.knuddels.jtokkit.api.EncodingType;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The compact encodings count exactly as jtokkit (a tiktoken port) does, on a varied corpus. */
class BytePairEncodingTest {

  private static final EncodingRegistry JTOKKIT = Encodings.newLazyEncodingRegistry();
  private static final BytePairEncoding O200K = BytePairEncoding.o200k();
  private static final BytePairEncoding CL100K = BytePairEncoding.cl100k();

  @Test
  void o200kCountsLikeJtokkit() {
    assertSameCounts(O200K, JTOKKIT.getEncoding(EncodingType.O200K_BASE));
  }

  @Test
  void cl100kCountsLikeJtokkit() {
    assertSameCounts(CL100K, JTOKKIT.getEncoding(EncodingType.CL100K_BASE));
  }

  @Test
  void truncationKeepsAPrefixOfAtMostTheTokensAskedForAndNeverSplitsACharacter() {
    Encoding reference = JTOKKIT.getEncoding(EncodingType.O200K_BASE);
    for (String text : corpus()) {
      int total = O200K.count(text);
      for (int max : new int[] {0, 1, 3, 17, total - 1, total, total + 5}) {
        if (max < 0) {
          continue;
        }
        String cut = O200K.truncate(text, max);
        assertThat(text).startsWith(cut);
        assertThat(O200K.count(cut)).isLessThanOrEqualTo(Math.max(max, 0));
        assertThat(cut).doesNotContain("\uFFFD");
        if (max >= total) {
          assertThat(cut).isEqualTo(text);
        }
        if (text.chars().allMatch(c -> c < 128) && max > 0 && max < total) {
          // ASCII cuts at token boundaries: exactly the first max tokens, as jtokkit decodes them.
          assertThat(cut)
              .isEqualTo(reference.decode(reference.encodeOrdinary(text, max).getTokens()));
        }
      }
    }
  }

  @Test
  void specialTokenTextIsCountedAsOrdinaryText() {
    String text = "before <|endoftext|> after <|im_start|>";
    assertThat(O200K.count(text))
        .isEqualTo(JTOKKIT.getEncoding(EncodingType.O200K_BASE).countTokensOrdinary(text))
        .isGreaterThan(4);
  }

  @Test
  void longPiecesCountAndTruncateLikeJtokkit() {
    Encoding reference = JTOKKIT.getEncoding(EncodingType.O200K_BASE);
    Random random = new Random(20261206);
    List<String> pieces = new ArrayList<>();
    pieces.add("ab".repeat(10_000));
    StringBuilder letters = new StringBuilder();
    StringBuilder cjk = new StringBuilder();
    for (int i = 0; i < 20_000; i++) {
      letters.append((char) ('a' + random.nextInt(26)));
      cjk.append((char) (0x4E00 + random.nextInt(2000)));
    }
    pieces.add(letters.toString());
    pieces.add(cjk.toString()); // 60,000 bytes: one slice
    for (String piece : pieces) {
      assertThat(O200K.count(piece))
          .as(abbreviate(piece))
          .isEqualTo(reference.countTokensOrdinary(piece));
    }
    for (String piece : pieces.subList(0, 2)) {
      assertThat(O200K.truncate(piece, 1000))
          .isEqualTo(reference.decode(reference.encodeOrdinary(piece, 1000).getTokens()));
    }
  }

  @Test
  void aPieceAsLongAsARequestCountsInBoundedTime() {
    // One run of letters as long as a request may be: merged pair by pair with a scan, this took
    // minutes; it is n log n now, in slices of bounded size.
    String run = "a".repeat(1_000_000);
    StringBuilder mixed = new StringBuilder();
    Random random = new Random(7);
    for (int i = 0; i < 1_000_000; i++) {
      mixed.append((char) ('a' + random.nextInt(26)));
    }
    int[] counts = new int[2];
    assertTimeoutPreemptively(
        Duration.ofSeconds(20),
        () -> {
          counts[0] = O200K.count(run);
          counts[1] = CL100K.count(mixed.toString());
        });
    assertThat(counts[0]).isBetween(1_000_000 / 16, 1_000_000);
    // Exact but for a token or so per slice.
    String shorter = "a".repeat(200_000);
    assertThat(O200K.count(shorter))
        .isCloseTo(
            JTOKKIT.getEncoding(EncodingType.O200K_BASE).countTokensOrdinary(shorter),
            within(200_000 / BytePairEncoding.MAX_PIECE + 1));
    assertThat(counts[1]).isBetween(1_000_000 / 16, 1_000_000);
  }

  private static void assertSameCounts(BytePairEncoding ours, Encoding reference) {
    List<String> texts = corpus();
    for (String text : texts) {
      assertThat(ours.count(text))
          .as("%s tokens of %s", ours.name(), abbreviate(text))
          .isEqualTo(reference.countTokensOrdinary(text));
    }
  }

  private static List<String> corpus() {
    List<String> texts = new ArrayList<>();
    texts.add("Hello, world! How's it going? I'VE seen they'll WE'D you're");
    texts.add("The quick brown fox jumps over the lazy dog. 1234567890 3.14159 -42 1e10");
    texts.add("public static void main(String[] args) {\n\tSystem.out.println(\"hi\");\n}\n");
    texts.add("{\"summary\":\"Two services\",\"components\":[{\"name\":\"catalog\"}],\"n\":12}");
    texts.add("Gewährleistungsansprüche für Lieferverzögerungen: Stück à 0,99 € — naïve café");
    texts.add("日本語のテキストと中文文本，还有한국어 텍스트. Привет, мир! مرحبا بالعالم");
    texts.add("emoji 🚀🔥👍🏽 family 👨‍👩‍👧‍👦 flags 🇩🇪🇫🇷 and math ∑∫√∞ ≠ ≤");
    texts.add("lines\r\nwith\r\n\r\n  mixed \t\t tabs\n\n\n   and   trailing   \n");
    texts.add("non\u00A0breaking\u2003em\u2009thin\u3000ideographic spaces\u200Bzero-width");
    texts.add("a".repeat(3000));
    texts.add(" ".repeat(257) + "x" + "\n".repeat(40));
    texts.add("1234567890".repeat(40));
    texts.add("!!!???...;;;:::---___===+++***&&&%%%$$$###@@@~~~```'''\"\"\"".repeat(5));
    texts.add("https://example.com/a/b?c=d&e=f#g path/to/file.java ../../etc/passwd C:\\Windows");
    texts.add("CamelCaseIdentifiersAndXMLHttpRequest snake_case_names kebab-case-names ALLCAPS");
    texts.add("");
    Random random = new Random(20261204);
    String alphabet =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 \n\t\r.,;:!?'\"()[]{}<>/\\"
            + "-_=+*&^%$#@~`|äöüßéèçñøåłž日本語中文한국어РусскийΑλφα€£¥🚀👍\u00A0\u2003";
    int[] points = alphabet.codePoints().toArray();
    for (int i = 0; i < 1500; i++) {
      int length = 1 + random.nextInt(i % 10 == 0 ? 600 : 60);
      StringBuilder sb = new StringBuilder();
      for (int j = 0; j < length; j++) {
        sb.appendCodePoint(points[random.nextInt(points.length)]);
      }
      texts.add(sb.toString());
    }
    return texts;
  }

  private static String abbreviate(String text) {
    return text.length() > 80 ? text.substring(0, 80) + "..." : text;
  }
}
