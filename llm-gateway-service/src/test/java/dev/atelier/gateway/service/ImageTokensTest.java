package dev.atelier.gateway.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Base64;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

/** Image inputs counted as OpenAI documents them, from the size in the image's own header. */
class ImageTokensTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  private static String dataUrl(String mediaType, byte[] bytes) {
    return "data:" + mediaType + ";base64," + Base64.getEncoder().encodeToString(bytes);
  }

  private static String image(String format, int width, int height, int type) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    assertThat(ImageIO.write(new BufferedImage(width, height, type), format, out)).isTrue();
    return dataUrl("image/" + format, out.toByteArray());
  }

  private static String png(int width, int height) throws Exception {
    return image("png", width, height, BufferedImage.TYPE_BYTE_BINARY);
  }

  /** A WebP file's first chunk, as the header reader sees it (the rest does not matter). */
  private static String webp(String chunk, byte[] data) {
    ByteBuffer b = ByteBuffer.allocate(20 + data.length).order(ByteOrder.LITTLE_ENDIAN);
    b.put("RIFF".getBytes()).putInt(12 + data.length).put("WEBP".getBytes());
    b.put(chunk.getBytes()).putInt(data.length).put(data);
    return dataUrl("image/webp", b.array());
  }

  private static JsonNode content(String url, String detail) {
    ArrayNode parts = JSON.createArrayNode();
    parts.addObject().put("type", "text").put("text", "What is in this image?");
    ObjectNode image = parts.addObject().put("type", "image_url").putObject("image_url");
    image.put("url", url);
    if (detail != null) {
      image.put("detail", detail);
    }
    return parts;
  }

  private static long tokens(String model, String url, String detail) {
    return ImageTokens.ofContent(model, content(url, detail));
  }

  @Test
  void tileModelsCountTheScaledImagesTilesAsOpenAiDocumentsIt() throws Exception {
    // OpenAI's own examples: 1024 x 1024 is scaled to 768 x 768, 4 tiles; 2048 x 4096 to
    // 768 x 1536, 6 tiles; low detail is the base alone, whatever the size.
    String square = png(1024, 1024);
    assertThat(tokens("gpt-4o", square, "high")).isEqualTo(85 + 4 * 170);
    assertThat(tokens("gpt-4o", square, null)).as("auto counts as high").isEqualTo(765);
    assertThat(tokens("gpt-4o", png(2048, 4096), "high")).isEqualTo(1105);
    assertThat(tokens("gpt-4o", png(4096, 8192), "low")).isEqualTo(85);
    // One tile; the small image is not scaled up.
    String small = image("gif", 300, 200, BufferedImage.TYPE_BYTE_INDEXED);
    assertThat(tokens("gpt-4o", small, "high")).isEqualTo(255);
    assertThat(tokens("gpt-4o-mini-2024-07-18", small, "high")).isEqualTo(2833 + 5667);
    assertThat(tokens("o3-mini", small, "high")).isEqualTo(75 + 150);
    assertThat(tokens("gpt-5-chat-latest", small, "high")).isEqualTo(70 + 140);
    assertThat(tokens("openai/gpt-4.1", small, "high")).as("a router's name").isEqualTo(255);
  }

  @Test
  void patchModelsCountThirtyTwoPixelPatchesUpTo1536TimesTheirMultiplier() throws Exception {
    // OpenAI's example: 1800 x 2400 is 4,275 patches, scaled to 1056 x 1408: 33 x 44 = 1,452.
    String jpeg = image("jpg", 1800, 2400, BufferedImage.TYPE_BYTE_GRAY);
    assertThat(tokens("gpt-4.1-mini", jpeg, null)).isEqualTo((long) Math.ceil(1452 * 1.62));
    assertThat(tokens("gpt-4.1-nano", jpeg, "low")).isEqualTo((long) Math.ceil(1452 * 2.46));
    // 1024 x 1024: 32 x 32 patches, not scaled.
    assertThat(tokens("o4-mini", png(1024, 1024), null)).isEqualTo((long) Math.ceil(1024 * 1.72));
    // The same JPEG on a tile model: fitted to 1536 x 2048, then 768 x 1024, 4 tiles.
    assertThat(tokens("gpt-4o", jpeg, "high")).isEqualTo(765);
  }

  @Test
  void aThinImageCountsAtLeastOneTileOrPatchEachWay() throws Exception {
    // 4000 x 1 fits 2048 x 2048 as 2048 x 1: four tiles across, one down.
    assertThat(tokens("gpt-4o", png(4000, 1), "high")).isEqualTo(85 + 4 * 170);
    // 50,000 x 1 is 1,563 patches of 32 px: more than 1,536, though its area is small.
    assertThat(tokens("gpt-4.1-mini", png(50_000, 1), null))
        .isEqualTo((long) Math.ceil(1536 * 1.62));
    assertThat(tokens("gpt-4.1-mini", png(1, 1), null)).isEqualTo((long) Math.ceil(1 * 1.62));
  }

  @Test
  void webpSizesAreReadFromEachOfItsThreeHeaders() {
    byte[] extended = new byte[10];
    extended[4] = (byte) 0xFF; // canvas 1024 x 1024, stored minus one, 24 bits little-endian
    extended[5] = 0x03;
    extended[7] = (byte) 0xFF;
    extended[8] = 0x03;
    assertThat(tokens("gpt-4o", webp("VP8X", extended), "high")).isEqualTo(765);

    // Lossless 100 x 50: 14 bits each, minus one, after the signature byte 0x2F.
    int bits = (100 - 1) | (50 - 1) << 14;
    byte[] lossless = {
      0x2F, (byte) bits, (byte) (bits >> 8), (byte) (bits >> 16), 0, 0, 0, 0, 0, 0
    };
    assertThat(tokens("gpt-4o", webp("VP8L", lossless), "high")).isEqualTo(255);

    // Lossy 640 x 480: frame tag, start code, then the sizes.
    byte[] lossy = {0, 0, 0, (byte) 0x9D, 0x01, 0x2A, (byte) 640, 640 >> 8, (byte) 480, 480 >> 8};
    assertThat(tokens("gpt-4o", webp("VP8 ", lossy), "high")).isEqualTo(85 + 2 * 170);
  }

  @Test
  void anImageWhoseSizeIsUnknownCountsAsTheLargest() throws Exception {
    String address = "https://example.com/cat.png";
    assertThat(tokens("gpt-4o", address, "high")).isEqualTo(85 + 8 * 170);
    assertThat(tokens("gpt-4o", address, "low")).isEqualTo(85);
    assertThat(tokens("gpt-4.1-nano", address, null)).isEqualTo((long) Math.ceil(1536 * 2.46));
    String png = png(64, 64);
    for (String unreadable :
        new String[] {
          png.substring(0, 40), // cut off before the size
          "data:image/png;base64,!!!!" + png.substring(26),
          "data:image/png," + "x".repeat(40), // not base64
          dataUrl("image/bmp", new byte[64]),
          dataUrl("image/png", new byte[0])
        }) {
      assertThat(tokens("gpt-4o", unreadable, "high")).as(unreadable).isEqualTo(1445);
    }
    assertThat(tokens("gpt-4o", png, "high")).isEqualTo(255);
  }

  @Test
  void aStringContentHasNoImagesAndEachImagePartCounts() throws Exception {
    assertThat(ImageTokens.ofContent("gpt-4o", JSON.valueToTree("a plain question"))).isZero();
    ArrayNode two = (ArrayNode) content(png(64, 64), "high");
    two.add(content("https://example.com/a.png", "low").get(1));
    assertThat(ImageTokens.ofContent("gpt-4o", two)).isEqualTo(255 + 85);
  }

  @Test
  void aPromptsCountIncludesItsImages() throws Exception {
    TokenCounter counter = new TokenCounter();
    ObjectNode withImage = JSON.createObjectNode();
    withImage
        .putArray("messages")
        .addObject()
        .put("role", "user")
        .set("content", content(png(1024, 1024), "high"));
    ObjectNode textOnly = JSON.createObjectNode();
    textOnly
        .putArray("messages")
        .addObject()
        .put("role", "user")
        .put("content", "What is in this image?");

    assertThat(counter.promptTokens("gpt-4o", withImage))
        .isEqualTo(counter.promptTokens("gpt-4o", textOnly) + 765);
  }
}
