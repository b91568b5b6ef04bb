package dev.atelier.gateway.provider.simulated;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.atelier.contracts.LlmCallRecorded;
import dev.atelier.gateway.provider.Completion;
import dev.atelier.gateway.provider.EmbeddingCall;
import dev.atelier.gateway.service.GatewayException;
import dev.atelier.gateway.service.TokenCounter;
import dev.atelier.gateway.service.Usage;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * Deterministic embeddings: each input's unit vector is seeded from a SHA-256 of model and input,
 * so the same text always embeds the same way (and different texts differently); usage is the
 * tokenizer's count of the inputs (a token-array input counts its length).
 */
final class SimulatedEmbeddings {

  /**
   * The most numbers one request may ask for (inputs x dimensions): 2048 inputs of 3072 would be
   * over six million tree nodes built on the event loop, more than the gateway's whole heap.
   */
  static final int MAX_VALUES = 250_000;

  private final ObjectMapper mapper;
  private final TokenCounter tokens;

  SimulatedEmbeddings(ObjectMapper mapper, TokenCounter tokens) {
    this.mapper = mapper;
    this.tokens = tokens;
  }

  /** Default width of the model, as OpenAI's: 3072 for "-large" models, else 1536. */
  static int defaultDimensions(String model) {
    return model.contains("large") ? 3072 : 1536;
  }

  Completion embed(EmbeddingCall call) {
    ObjectNode request = call.request();
    String model = call.upstreamModel();
    int dims =
        request.path("dimensions").isInt()
            ? request.get("dimensions").asInt()
            : defaultDimensions(model);
    boolean base64 = "base64".equals(request.path("encoding_format").asText("float"));
    List<String> inputs = new ArrayList<>();
    JsonNode input = request.get("input");
    for (JsonNode item : TokenCounter.embeddingInputs(input)) {
      inputs.add(item.isTextual() ? item.asText() : item.toString());
    }
    if ((long) inputs.size() * dims > MAX_VALUES) {
      throw GatewayException.invalid(
          "embeddings_too_large",
          "input",
          "The simulated provider embeds at most "
              + MAX_VALUES
              + " numbers per request (inputs x dimensions); this one asks for "
              + inputs.size()
              + " x "
              + dims
              + ": send fewer inputs per request or fewer dimensions");
    }
    long promptTokens = tokens.embeddingTokens(model, input);
    ObjectNode root = mapper.createObjectNode();
    root.put("object", "list");
    ArrayNode data = root.putArray("data");
    for (int i = 0; i < inputs.size(); i++) {
      float[] v = vector(model, inputs.get(i), dims);
      ObjectNode e = data.addObject();
      e.put("object", "embedding");
      e.put("index", i);
      if (base64) {
        ByteBuffer buf = ByteBuffer.allocate(4 * dims).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) {
          buf.putFloat(f);
        }
        e.put("embedding", Base64.getEncoder().encodeToString(buf.array()));
      } else {
        ArrayNode values = e.putArray("embedding");
        for (float f : v) {
          values.add(f);
        }
      }
    }
    root.put("model", model);
    root.putObject("usage").put("prompt_tokens", promptTokens).put("total_tokens", promptTokens);
    Usage usage = new Usage(promptTokens, 0, 0, 0, LlmCallRecorded.USAGE_PROVIDER);
    return new Completion(
        root.toString().getBytes(StandardCharsets.UTF_8), root, Optional.of(usage));
  }

  private static float[] vector(String model, String input, int dims) {
    byte[] digest;
    try {
      digest =
          MessageDigest.getInstance("SHA-256")
              .digest((model + '\u0000' + input).getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    SplittableRandom random = new SplittableRandom(ByteBuffer.wrap(digest).getLong());
    double[] raw = new double[dims];
    double norm = 0;
    for (int i = 0; i < dims; i++) {
      raw[i] = random.nextDouble(-1, 1);
      norm += raw[i] * raw[i];
    }
    norm = Math.sqrt(norm);
    float[] v = new float[dims];
    for (int i = 0; i < dims; i++) {
      v[i] = (float) (raw[i] / norm);
    }
    return v;
  }
}
