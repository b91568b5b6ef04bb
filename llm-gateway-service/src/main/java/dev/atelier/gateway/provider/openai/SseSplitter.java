package dev.atelier.gateway.provider.openai;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Splits a server-sent event stream, fed in arbitrary network chunks, into the {@code data}
 * payloads of its events. Lines are split on bytes ({@code \n} never occurs inside a multi-byte
 * UTF-8 character), so a character cut across two chunks is decoded whole. Comments and other
 * fields ({@code event:}, {@code id:}) are dropped: OpenAI-compatible streams carry everything in
 * {@code data}.
 */
final class SseSplitter {

  /** An event (its lines together) grew past the limit before it ended. */
  static final class EventTooLarge extends RuntimeException {
    EventTooLarge(long limit) {
      super("a stream event is larger than " + limit + " bytes", null, false, false);
    }
  }

  private final ByteArrayOutputStream line = new ByteArrayOutputStream(256);
  private final StringBuilder data = new StringBuilder();
  private final long maxEventBytes;
  private boolean hasData;

  /** Splits events of at most {@code maxEventBytes} (counting a line's bytes and data's chars). */
  SseSplitter(long maxEventBytes) {
    this.maxEventBytes = maxEventBytes;
  }

  /**
   * Feeds bytes; returns the payloads of the events they complete.
   *
   * @throws EventTooLarge when an event grows past the limit (a provider sending without end)
   */
  List<String> feed(byte[] bytes) {
    List<String> out = new ArrayList<>(2);
    for (byte b : bytes) {
      if (b == '\n') {
        endLine(out);
      } else {
        line.write(b);
      }
    }
    if ((long) line.size() + data.length() > maxEventBytes) {
      throw new EventTooLarge(maxEventBytes);
    }
    return out;
  }

  /** Ends the stream: an event not followed by a blank line still counts. */
  List<String> finish() {
    List<String> out = new ArrayList<>(1);
    if (line.size() > 0) {
      endLine(out);
    }
    dispatch(out);
    return out;
  }

  private void endLine(List<String> out) {
    String text = line.toString(StandardCharsets.UTF_8);
    line.reset();
    if (text.endsWith("\r")) {
      text = text.substring(0, text.length() - 1);
    }
    if (text.isEmpty()) {
      dispatch(out);
      return;
    }
    if (text.startsWith("data:")) {
      String value = text.substring(5);
      if (value.startsWith(" ")) {
        value = value.substring(1);
      }
      if (hasData) {
        data.append('\n');
      }
      data.append(value);
      hasData = true;
    }
  }

  private void dispatch(List<String> out) {
    if (hasData) {
      out.add(data.toString());
      data.setLength(0);
      hasData = false;
    }
  }
}
