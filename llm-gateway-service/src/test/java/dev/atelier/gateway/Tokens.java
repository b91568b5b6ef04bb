package dev.atelier.gateway;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import java.math.BigDecimal;
import java.util.List;

/**
 * The test's own token and cost arithmetic, written from OpenAI's documentation rather than taken
 * from the gateway: chat prompts cost 3 tokens per message plus role and content, plus 3 to prime
 * the reply; prices are USD per 1M tokens.
 */
public final class Tokens {

  public static final Encoding O200K =
      Encodings.newDefaultEncodingRegistry().getEncoding(EncodingType.O200K_BASE);

  /** The tokenizer of the text-embedding models. */
  public static final Encoding CL100K =
      Encodings.newDefaultEncodingRegistry().getEncoding(EncodingType.CL100K_BASE);

  private Tokens() {}

  /** A chat message of the test's requests. */
  public record Message(String role, String content) {}

  public static long prompt(List<Message> messages) {
    long total = 3;
    for (Message m : messages) {
      total += 3 + O200K.countTokens(m.role()) + O200K.countTokens(m.content());
    }
    return total;
  }

  public static long text(String text) {
    return O200K.countTokens(text);
  }

  /** USD for the given tokens at the given per-1M prices. */
  public static BigDecimal cost(
      long input, long cached, long output, String inPrice, String cachedPrice, String outPrice) {
    return new BigDecimal(input - cached)
        .multiply(new BigDecimal(inPrice))
        .add(new BigDecimal(cached).multiply(new BigDecimal(cachedPrice)))
        .add(new BigDecimal(output).multiply(new BigDecimal(outPrice)))
        .divide(new BigDecimal(1_000_000));
  }
}
