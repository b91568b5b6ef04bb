package dev.atelier.gateway.service;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Locale;

/**
 * Input tokens of the images in a chat message ({@code {"type": "image_url", "image_url": {"url",
 * "detail"}}} content parts), counted the way OpenAI documents it for its vision models. The count
 * is needed where the gateway counts a prompt itself: a budget reservation, where an image counted
 * as nothing would let a call past a hard budget, and the usage of a provider that reports none.
 *
 * <p>Two schemes, by model:
 *
 * <ul>
 *   <li><b>tiles</b>: the image is scaled down to fit 2048 x 2048, then down until its shorter side
 *       is 768 px; each 512 px tile costs {@code tile} tokens on top of {@code base}, and {@code
 *       detail: "low"} costs {@code base} alone. gpt-4o, gpt-4.1, gpt-4.5 and any model not named
 *       below: 85 + 170 a tile; gpt-4o-mini: 2833 + 5667; o1 and o3: 75 + 150; gpt-5: 70 + 140.
 *   <li><b>patches</b>: 32 px patches, at most 1536 (the image scaled down until it fits), times a
 *       multiplier, whatever the detail: gpt-4.1-mini and gpt-5-mini 1.62, gpt-4.1-nano and
 *       gpt-5-nano 2.46, o4-mini 1.72.
 * </ul>
 *
 * <p>The size is read from the header of an image sent inline (a base64 {@code data:} URL of a PNG,
 * JPEG, GIF or WebP image), decoding only the bytes the header needs. An image by address, or one
 * whose size cannot be read, counts as the largest the scheme allows: 8 tiles or 1536 patches.
 */
public final class ImageTokens {

  static final int MAX_PATCHES = 1536;
  private static final int PATCH = 32;

  private ImageTokens() {}

  /** Tokens of the image parts of a message's {@code content}; 0 for a string content. */
  public static long ofContent(String model, JsonNode content) {
    if (content == null || !content.isArray()) {
      return 0;
    }
    Scheme scheme = null;
    long total = 0;
    for (JsonNode part : content) {
      if (!"image_url".equals(part.path("type").asText())) {
        continue;
      }
      if (scheme == null) {
        scheme = Scheme.of(model);
      }
      JsonNode image = part.path("image_url");
      String url = image.isTextual() ? image.asText() : image.path("url").asText("");
      boolean low = "low".equals(image.path("detail").asText());
      total += scheme.tokens(ImageSize.of(url), low);
    }
    return total;
  }

  /** How a model counts an image. */
  record Scheme(int base, int tile, double patchMultiplier) {

    static Scheme tiles(int base, int tile) {
      return new Scheme(base, tile, 0);
    }

    static Scheme patches(double multiplier) {
      return new Scheme(0, 0, multiplier);
    }

    static Scheme of(String model) {
      String m = model == null ? "" : model.toLowerCase(Locale.ROOT);
      m = m.substring(m.lastIndexOf('/') + 1); // "openai/gpt-4o" as served by a router
      if (m.startsWith("gpt-4o-mini")) {
        return tiles(2833, 5667);
      }
      if (m.startsWith("gpt-4.1-mini") || m.startsWith("gpt-5-mini")) {
        return patches(1.62);
      }
      if (m.startsWith("gpt-4.1-nano") || m.startsWith("gpt-5-nano")) {
        return patches(2.46);
      }
      if (m.startsWith("o4-mini")) {
        return patches(1.72);
      }
      if (m.startsWith("o1") || m.startsWith("o3")) {
        return tiles(75, 150);
      }
      if (m.startsWith("gpt-5")) {
        return tiles(70, 140);
      }
      return tiles(85, 170);
    }

    /**
     * @param size null when unknown: the largest image counts
     */
    long tokens(ImageSize size, boolean low) {
      if (patchMultiplier > 0) {
        long patches = size == null ? MAX_PATCHES : patchCount(size.width(), size.height());
        return (long) Math.ceil(patches * patchMultiplier);
      }
      if (low) {
        return base;
      }
      long tiles = size == null ? 8 : tileCount(size.width(), size.height());
      return base + tile * tiles;
    }

    static long tileCount(double w, double h) {
      // Whole pixels, at least one: a 4000 x 1 image is 2048 x 1, not 2048 x 0 and no tile.
      if (w > 2048 || h > 2048) {
        double r = 2048 / Math.max(w, h);
        w = Math.max(1, Math.floor(w * r));
        h = Math.max(1, Math.floor(h * r));
      }
      if (Math.min(w, h) > 768) {
        double r = 768 / Math.min(w, h);
        w = Math.max(1, Math.floor(w * r));
        h = Math.max(1, Math.floor(h * r));
      }
      return (long) (Math.ceil(w / 512) * Math.ceil(h / 512));
    }

    static long patchCount(double w, double h) {
      long patches = (long) (Math.ceil(w / PATCH) * Math.ceil(h / PATCH));
      if (patches <= MAX_PATCHES) {
        return patches;
      }
      // Scaled down (never up: a thin image has many patches for its area) to fit the patches,
      // then to whole patches across its width or height, at least one each way.
      double r = Math.min(1, Math.sqrt(PATCH * PATCH * (double) MAX_PATCHES / (w * h)));
      double across = w * r / PATCH;
      double down = h * r / PATCH;
      r *= Math.min(Math.max(1, Math.floor(across)) / across, Math.max(1, Math.floor(down)) / down);
      // Whole pixels, as the image is resized; the epsilon keeps 33 patches from rounding to 34.
      double width = Math.max(1, Math.floor(w * r + 1e-6));
      double height = Math.max(1, Math.floor(h * r + 1e-6));
      patches = (long) (Math.ceil(width / PATCH) * Math.ceil(height / PATCH));
      return Math.max(1, Math.min(patches, MAX_PATCHES));
    }
  }
}
