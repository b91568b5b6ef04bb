package dev.atelier.gateway.provider.openai;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class SseSplitterTest {

  static final String STREAM =
      ": keep-alive\r\n\r\ndata: {\"a\":\"ü€\"}\r\n\r\nevent: x\ndata: {\"b\":1}\n\ndata: line1\ndata: line2\n\ndata: [DONE]";

  @Test
  void eventsSurviveAnySplitOfTheBytes() {
    byte[] bytes = STREAM.getBytes(StandardCharsets.UTF_8);
    for (int size = 1; size <= bytes.length; size++) {
      SseSplitter splitter = new SseSplitter(1 << 20);
      List<String> out = new ArrayList<>();
      for (int i = 0; i < bytes.length; i += size) {
        out.addAll(splitter.feed(Arrays.copyOfRange(bytes, i, Math.min(bytes.length, i + size))));
      }
      out.addAll(splitter.finish());
      assertThat(out)
          .as("chunk size %d", size)
          .containsExactly("{\"a\":\"ü€\"}", "{\"b\":1}", "line1\nline2", "[DONE]");
    }
  }

  @Test
  void anEventGrowingPastTheLimitIsRefusedWhateverItsShape() {
    byte[] line = ("data: " + "x".repeat(600)).getBytes(StandardCharsets.UTF_8);
    // A line without end, and many data lines without the blank line that ends an event.
    assertThatThrownBy(
            () -> {
              SseSplitter splitter = new SseSplitter(1_000);
              splitter.feed(line);
              splitter.feed(line);
            })
        .isInstanceOf(SseSplitter.EventTooLarge.class)
        .hasMessage("a stream event is larger than 1000 bytes");
    assertThatThrownBy(
            () -> {
              SseSplitter splitter = new SseSplitter(1_000);
              splitter.feed(
                  "data: ".concat("y".repeat(600)).concat("\n").getBytes(StandardCharsets.UTF_8));
              splitter.feed(
                  "data: ".concat("y".repeat(600)).concat("\n").getBytes(StandardCharsets.UTF_8));
            })
        .isInstanceOf(SseSplitter.EventTooLarge.class);
    // Events within it, however many, pass.
    SseSplitter splitter = new SseSplitter(1_000);
    for (int i = 0; i < 100; i++) {
      assertThat(
              splitter.feed(("data: " + "z".repeat(900) + "\n\n").getBytes(StandardCharsets.UTF_8)))
          .hasSize(1);
    }
  }
}
