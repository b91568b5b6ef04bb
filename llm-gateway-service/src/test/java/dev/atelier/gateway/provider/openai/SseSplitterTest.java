package dev.atelier.gateway.provider.openai;

import static org.assertj.core.api.Assertions.assertThat;

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
      SseSplitter splitter = new SseSplitter();
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
}
