package dev.atelier.gateway.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingRegistry;
import com.knuddels.jtokkit.api.EncodingType;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The count cache never changes a count: cached or not, counts equal jtokkit's. */
class TokenCounterTest {

  private static final EncodingRegistry JTOKKIT = Encodings.newLazyEncodingRegistry();
  private static final Encoding O200K = JTOKKIT.getEncoding(EncodingType.O200K_BASE);
  private static final Encoding CL100K = JTOKKIT.getEncoding(EncodingType.CL100K_BASE);

  private final TokenCounter counter = new TokenCounter();

  @Test
  void repeatedAndNearlyEqualTextsKeepTheirOwnCounts() {
    Random random = new Random(7);
    List<String> texts = new ArrayList<>();
    String base =
        "Parcel tracking for the shop: customers see where an order is and get an email when it"
            + " ships. The architect splits it into a tracking service and a notifier. ";
    for (int i = 0; i < 300; i++) {
      StringBuilder sb = new StringBuilder(base.repeat(1 + random.nextInt(6)));
      // Texts that differ in one character, or only in length, must not share a count.
      sb.setCharAt(random.nextInt(sb.length()), (char) ('a' + random.nextInt(26)));
      if (random.nextBoolean()) {
        sb.append(" ".repeat(random.nextInt(4))).append(random.nextInt(100_000));
      }
      texts.add(sb.toString());
    }
    // Each text three times, interleaved, so later rounds are served from the cache.
    for (int round = 0; round < 3; round++) {
      for (String text : texts) {
        assertThat(text.length()).isGreaterThanOrEqualTo(TokenCounter.CACHE_MIN_CHARS);
        assertThat(counter.count("gpt-4o-mini", text))
            .as("o200k, round %d", round)
            .isEqualTo(O200K.countTokensOrdinary(text));
        assertThat(counter.count("gpt-4", text))
            .as("cl100k, round %d", round)
            .isEqualTo(CL100K.countTokensOrdinary(text));
      }
    }
  }

  @Test
  void theSameTextUnderTwoEncodingsIsCountedByEach() {
    // o200k has many more tokens for text that is not English.
    String text = "Kunden sehen, wo eine Bestellung ist. Заказ уже в пути. 注文は発送されました。 ".repeat(10);
    int o200k = counter.count("gpt-4o", text);
    int cl100k = counter.count("gpt-3.5-turbo", text);

    assertThat(o200k).isEqualTo(O200K.countTokensOrdinary(text));
    assertThat(cl100k).isEqualTo(CL100K.countTokensOrdinary(text));
    assertThat(o200k).as("the encodings must disagree here").isNotEqualTo(cl100k);
    assertThat(counter.count("gpt-4o", text)).isEqualTo(o200k);
    assertThat(counter.count("gpt-3.5-turbo", text)).isEqualTo(cl100k);
  }
}
