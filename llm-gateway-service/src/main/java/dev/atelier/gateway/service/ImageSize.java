package dev.atelier.gateway.service;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.util.Base64;

/**
 * The width and height of an image sent inline as a base64 {@code data:} URL, read from its PNG,
 * JPEG, GIF or WebP header. The JDK's decoder reads the URL as a stream, so only the bytes up to
 * the header are decoded, not a copy of the whole image.
 */
record ImageSize(int width, int height) {

  /** Larger sides are not images a model reads: the header is taken for corrupt. */
  static final int MAX_SIDE = 1 << 16;

  /** JPEG segments walked before the frame header; past them the size counts as unknown. */
  private static final int MAX_JPEG_SEGMENTS = 256;

  /** Bytes at the start that hold the PNG, GIF and WebP sizes. */
  private static final int HEAD = 30;

  /** The size of the image at {@code url}; null for an address, or a header that cannot be read. */
  static ImageSize of(String url) {
    if (url == null || !url.regionMatches(true, 0, "data:", 0, 5)) {
      return null;
    }
    int comma = url.indexOf(',');
    if (comma < 7 || !url.regionMatches(true, comma - 7, ";base64", 0, 7)) {
      return null;
    }
    try (InputStream in = Base64.getDecoder().wrap(new Chars(url, comma + 1))) {
      ImageSize size = read(in.readNBytes(HEAD), in);
      return size != null
              && size.width > 0
              && size.height > 0
              && size.width <= MAX_SIDE
              && size.height <= MAX_SIDE
          ? size
          : null;
    } catch (IOException unreadable) { // not base64, or cut off before the size
      return null;
    }
  }

  private static ImageSize read(byte[] b, InputStream rest) throws IOException {
    int n = b.length;
    if (n >= 24 && u8(b, 0) == 0x89 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G') {
      // Signature (8), IHDR length (4) and type (4), then width and height, big-endian.
      return new ImageSize(int32(b, 16), int32(b, 20));
    }
    if (n >= 10 && b[0] == 'G' && b[1] == 'I' && b[2] == 'F') {
      return new ImageSize(u16le(b, 6), u16le(b, 8));
    }
    if (n == HEAD && b[0] == 'R' && b[1] == 'I' && b[8] == 'W' && b[9] == 'E') {
      return webp(b);
    }
    if (n >= 2 && u8(b, 0) == 0xFF && u8(b, 1) == 0xD8) {
      return jpeg(new SequenceInputStream(new ByteArrayInputStream(b, 2, n - 2), rest));
    }
    return null;
  }

  private static ImageSize webp(byte[] b) {
    // The first chunk's type: "VP8 ", "VP8L" or "VP8X"; its data starts at 20.
    if (b[12] != 'V' || b[13] != 'P' || b[14] != '8') {
      return null;
    }
    return switch (b[15]) {
      // Lossy: 14-bit sizes after the frame tag and start code.
      case ' ' -> new ImageSize(u16le(b, 26) & 0x3FFF, u16le(b, 28) & 0x3FFF);
      // Lossless: 14 bits each, minus one, after the signature byte.
      case 'L' -> {
        int bits = u8(b, 21) | u8(b, 22) << 8 | u8(b, 23) << 16 | u8(b, 24) << 24;
        yield new ImageSize(1 + (bits & 0x3FFF), 1 + (bits >>> 14 & 0x3FFF));
      }
      // Extended: the canvas, 24 bits each, minus one.
      case 'X' -> new ImageSize(1 + u24le(b, 24), 1 + u24le(b, 27));
      default -> null;
    };
  }

  /** Walks the segments to the first start-of-frame marker, which holds height and width. */
  private static ImageSize jpeg(InputStream in) throws IOException {
    for (int segment = 0; segment < MAX_JPEG_SEGMENTS; segment++) {
      if (byteOf(in) != 0xFF) {
        return null;
      }
      int marker = byteOf(in);
      while (marker == 0xFF) { // fill bytes
        marker = byteOf(in);
      }
      if (marker == 0x01 || marker >= 0xD0 && marker <= 0xD8) { // no length
        continue;
      }
      int length = byteOf(in) << 8 | byteOf(in);
      boolean frame =
          marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
      if (frame) {
        in.skipNBytes(1); // precision
        int height = byteOf(in) << 8 | byteOf(in);
        return new ImageSize(byteOf(in) << 8 | byteOf(in), height);
      }
      if (length < 2) {
        return null;
      }
      in.skipNBytes(length - 2);
    }
    return null;
  }

  private static int byteOf(InputStream in) throws IOException {
    int b = in.read();
    if (b < 0) {
      throw new IOException("the image ends before its size");
    }
    return b;
  }

  private static int u8(byte[] b, int i) {
    return b[i] & 0xFF;
  }

  private static int u16le(byte[] b, int i) {
    return u8(b, i) | u8(b, i + 1) << 8;
  }

  private static int u24le(byte[] b, int i) {
    return u16le(b, i) | u8(b, i + 2) << 16;
  }

  /** Big-endian; -1 (no image) past {@link Integer#MAX_VALUE}. */
  private static int int32(byte[] b, int i) {
    long v = (long) u8(b, i) << 24 | u8(b, i + 1) << 16 | u8(b, i + 2) << 8 | u8(b, i + 3);
    return v > Integer.MAX_VALUE ? -1 : (int) v;
  }

  /** The characters of {@code text} from {@code start}, as the bytes the decoder reads. */
  private static final class Chars extends InputStream {
    private final String text;
    private int next;

    Chars(String text, int start) {
      this.text = text;
      this.next = start;
    }

    @Override
    public int read() {
      if (next >= text.length()) {
        return -1;
      }
      char c = text.charAt(next++);
      return c < 0x80 ? c : '?'; // not base64: the decoder refuses it
    }
  }
}
