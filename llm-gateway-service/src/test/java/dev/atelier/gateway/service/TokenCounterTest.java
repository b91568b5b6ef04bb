package dev.atelier.gateway.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class TokenCounterTest {

  // A text the two encodings split differently.
  private static final String TEXT =
      "Gewährleistungsansprüche für Lieferverzögerungen: 12345678 Stück à 0,99 €";

  private static final Encoding O200K =
      Encodings.newLazyEncodingRegistry().getEncoding(EncodingType.O200K_BASE);
  private static final Encoding CL100K =
      Encodings.newLazyEncodingRegistry().getEncoding(EncodingType.CL100K_BASE);

  @Test
  void currentModelsCountWithO200kAtOnce() {
    TokenCounter counter = new TokenCounter();
    assertThat(counter.count("gpt-4o-mini", TEXT)).isEqualTo(O200K.countTokensOrdinary(TEXT));
    assertThat(counter.count("some-unknown-model", TEXT))
        .isEqualTo(O200K.countTokensOrdinary(TEXT));
  }

  @Test
  void aLegacyModelLoadsCl100kInTheBackgroundAndIsEstimatedWithO200kUntilThen() {
    assertThat(CL100K.countTokensOrdinary(TEXT)).isNotEqualTo(O200K.countTokensOrdinary(TEXT));
    TokenCounter counter = new TokenCounter();

    // The first call cannot wait for the load (it may be on the event loop): an o200k estimate.
    assertThat(counter.count("gpt-3.5-turbo", TEXT)).isEqualTo(O200K.countTokensOrdinary(TEXT));
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> counter.count("gpt-3.5-turbo", TEXT) == CL100K.countTokensOrdinary(TEXT));
    assertThat(counter.count("text-embedding-3-small", TEXT))
        .isEqualTo(CL100K.countTokensOrdinary(TEXT));
    assertThat(counter.count("gpt-4o", TEXT)).isEqualTo(O200K.countTokensOrdinary(TEXT));
  }

  @Test
  void loadingTheLegacyEncodingUpFrontGivesExactCountsFromTheFirstCall() {
    TokenCounter counter = new TokenCounter();
    counter.loadLegacyEncoding();
    assertThat(counter.count("gpt-4-turbo", TEXT)).isEqualTo(CL100K.countTokensOrdinary(TEXT));
  }
}
