package dev.atelier.gateway.service;

/**
 * The width and height of an image sent inline as a base64 {@code data:} URL, read from its PNG,
 * JPEG, GIF or WebP header. Only the bytes the header needs are decoded, four base64 characters at
 * a time, so a megabyte image costs a few dozen decoded groups, not a copy of itself.
 */
record ImageSize(int width, int height) {

  /** Larger sides are not images a model reads: the header is taken for corrupt. */
  static final int MAX_SIDE = 1 << 16;

  /** JPEG segments walked before the frame header; past them the size counts as unknown. */
  private static final int MAX_JPEG_SEGMENTS = 256;

  /** The size of the image at {@code url}; null for an address, or a header that cannot be read. */
  static ImageSize of(String url) {
    if (url == null || !url.regionMatches(true, 0, "data:", 0, 5)) {
      return null;
    }
    int comma = url.indexOf(',');
    if (comma < 7 || !url.regionMatches(true, comma - 7, ";base64", 0, 7)) {
      return null;
    }
    try {
      ImageSize size = read(new Base64Bytes(url, comma + 1));
      return size != null
              && size.width > 0
              && size.height > 0
              && size.width <= MAX_SIDE
              && size.height <= MAX_SIDE
          ? size
          : null;
    } catch (IllegalArgumentException | IndexOutOfBoundsException unreadable) {
      return null;
    }
  }

  private static ImageSize read(Base64Bytes b) {
    if (b.length() < 12) {
      return null;
    }
    if (b.at(0) == 0x89 && b.at(1) == 'P' && b.at(2) == 'N' && b.at(3) == 'G') {
      // Signature (8), IHDR length (4) and type (4), then width and height, big-endian.
      return b.length() < 24 ? null : new ImageSize(b.int32(16), b.int32(20));
    }
    if (b.at(0) == 'G' && b.at(1) == 'I' && b.at(2) == 'F') {
      return new ImageSize(b.at(6) | b.at(7) << 8, b.at(8) | b.at(9) << 8);
    }
    if (b.at(0) == 'R' && b.at(1) == 'I' && b.at(8) == 'W' && b.at(9) == 'E') {
      return webp(b);
    }
    if (b.at(0) == 0xFF && b.at(1) == 0xD8) {
      return jpeg(b);
    }
    return null;
  }

  private static ImageSize webp(Base64Bytes b) {
    if (b.length() < 30) {
      return null;
    }
    int c = b.at(15); // the first chunk's type: "VP8 ", "VP8L" or "VP8X"
    if (b.at(12) != 'V' || b.at(13) != 'P' || b.at(14) != '8') {
      return null;
    }
    if (c == ' ') { // lossy: 14-bit sizes after the frame tag and start code
      return new ImageSize(
          (b.at(26) | b.at(27) << 8) & 0x3FFF, (b.at(28) | b.at(29) << 8) & 0x3FFF);
    }
    if (c == 'L') { // lossless: 14 bits each, minus one, after the signature byte
      int b1 = b.at(22);
      int b2 = b.at(23);
      int b3 = b.at(24);
      return new ImageSize(
          1 + ((b1 & 0x3F) << 8 | b.at(21)), 1 + ((b3 & 0x0F) << 10 | b2 << 2 | (b1 & 0xC0) >> 6));
    }
    if (c == 'X') { // extended: the canvas, 24 bits each, minus one
      return new ImageSize(
          1 + (b.at(24) | b.at(25) << 8 | b.at(26) << 16),
          1 + (b.at(27) | b.at(28) << 8 | b.at(29) << 16));
    }
    return null;
  }

  /** Walks the segments to the first start-of-frame marker, which holds height and width. */
  private static ImageSize jpeg(Base64Bytes b) {
    long i = 2;
    for (int segment = 0; segment < MAX_JPEG_SEGMENTS && i + 9 <= b.length(); segment++) {
      if (b.at(i) != 0xFF) {
        return null;
      }
      int marker = b.at(i + 1);
      if (marker == 0xFF) { // fill byte
        i++;
        continue;
      }
      if (marker == 0x01 || marker >= 0xD0 && marker <= 0xD8) { // no length
        i += 2;
        continue;
      }
      boolean frame =
          marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
      if (frame) {
        return new ImageSize(b.at(i + 7) << 8 | b.at(i + 8), b.at(i + 5) << 8 | b.at(i + 6));
      }
      i += 2 + (b.at(i + 2) << 8 | b.at(i + 3));
    }
    return null;
  }

  /** Bytes of base64 text, decoded on demand. */
  private static final class Base64Bytes {
    private final String text;
    private final int start;
    private final long length;
    private long group = -1;
    private final int[] decoded = new int[3];

    Base64Bytes(String text, int start) {
      this.text = text;
      this.start = start;
      int chars = text.length() - start;
      int padding = 0;
      for (int i = text.length() - 1; i >= start && text.charAt(i) == '=' && padding < 2; i--) {
        padding++;
      }
      this.length = chars / 4 * 3L - padding;
    }

    long length() {
      return length;
    }

    /** The byte at {@code index}, 0..255. */
    int at(long index) {
      if (index < 0 || index >= length) {
        throw new IndexOutOfBoundsException(index);
      }
      long g = index / 3;
      if (g != group) {
        int from = start + (int) (g * 4);
        int bits = 0;
        for (int k = 0; k < 4; k++) {
          char ch = text.charAt(from + k);
          bits = bits << 6 | (ch == '=' ? 0 : value(ch));
        }
        decoded[0] = bits >>> 16 & 0xFF;
        decoded[1] = bits >>> 8 & 0xFF;
        decoded[2] = bits & 0xFF;
        group = g;
      }
      return decoded[(int) (index % 3)];
    }

    int int32(long index) {
      long v = (long) at(index) << 24 | at(index + 1) << 16 | at(index + 2) << 8 | at(index + 3);
      return v > Integer.MAX_VALUE ? -1 : (int) v;
    }

    private static int value(char c) {
      if (c >= 'A' && c <= 'Z') {
        return c - 'A';
      }
      if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
      }
      if (c >= '0' && c <= '9') {
        return c - '0' + 52;
      }
      if (c == '+' || c == '-') {
        return 62;
      }
      if (c == '/' || c == '_') {
        return 63;
      }
      throw new IllegalArgumentException("not base64: " + c);
    }
  }
}
