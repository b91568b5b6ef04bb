package dev.atelier.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import java.io.BufferedInputStream;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A caller reading a stream slower than its provider sends it: the gateway must stop reading from
 * the provider (and let TCP slow it down) instead of holding the answer in memory until the caller
 * catches up. The provider is a raw socket server here, so the test sees how much of the answer it
 * could write: a gateway relaying without backpressure reads all of it at once.
 */
@QuarkusTest
class StreamBackpressureTest {

  private final AtomicLong written = new AtomicLong();
  private ServerSocket provider;

  /** What the provider answers every chat with: {@link #eventCount} copies of {@link #event}. */
  private volatile byte[] event;

  private volatile long eventCount;

  @AfterEach
  void stopProvider() throws IOException {
    if (provider != null) {
      provider.close();
    }
  }

  @Test
  void aCallerThatReadsNothingPausesTheProviderAndThenGetsTheWholeStream() throws Exception {
    // 128 MB in 4 kB events: far more than every socket buffer on the way can hold.
    String model = startProvider(4_000, 128L << 20);
    long answer = eventCount * event.length;
    try (Socket caller = call(model)) {
      // The caller reads nothing for now: the provider can write what the buffers between it and
      // the caller hold (4.4 MB measured here), not the whole answer (all 128 MB before).
      await().atMost(Duration.ofSeconds(30)).until(() -> written.get() >= 1 << 20);
      await()
          .during(Duration.ofSeconds(3))
          .atMost(Duration.ofSeconds(10))
          .until(() -> written.get() < answer / 2);

      // Then it reads: the provider goes on, and every event arrives, in order, then [DONE].
      BufferedReader body = body(caller);
      long events = 0;
      String last = null;
      for (String l = body.readLine(); l != null; l = body.readLine()) {
        if (l.startsWith("data: ")) {
          last = l;
          if (l.contains("chatcmpl-slow")) {
            events++;
          }
        }
      }
      assertThat(last).isEqualTo("data: [DONE]");
      assertThat(events).isEqualTo(eventCount);
    }
  }

  @Test
  void aCallerThatReadsSomeThenStopsKeepsTheProviderPausedAgain() throws Exception {
    // Small events, many to a network read: each event the caller takes must not let the
    // provider's connection read on while events already read still wait for it.
    String model = startProvider(100, 1L << 30);
    try (Socket caller = call(model)) {
      await().atMost(Duration.ofSeconds(30)).until(() -> written.get() >= 1 << 20);
      BufferedReader body = body(caller);
      long read = 0;
      while (read < 4 << 20) {
        String l = body.readLine();
        assertThat(l).isNotNull();
        read += l.length() + 1;
      }
      // Stopped again: the provider got, and gets, no further than what the caller read plus
      // what the buffers hold (before, each event taken let the connection read on: the provider
      // wrote hundreds of MB ahead).
      long taken = read;
      await()
          .during(Duration.ofSeconds(3))
          .atMost(Duration.ofSeconds(10))
          .until(() -> written.get() < taken + (64L << 20));
    }
  }

  /** Starts the provider, registers it with the gateway and returns the model to ask for. */
  private String startProvider(int padding, long answerBytes) throws Exception {
    event =
        ("data: {\"id\":\"chatcmpl-slow\",\"object\":\"chat.completion.chunk\",\"model\":\"m\","
                + "\"choices\":[{\"index\":0,\"delta\":{}}],\"pad\":\""
                + "x".repeat(padding)
                + "\"}\n\n")
            .getBytes(StandardCharsets.US_ASCII);
    eventCount = answerBytes / event.length;
    provider = new ServerSocket();
    provider.bind(new InetSocketAddress("127.0.0.1", 0));
    Thread server = new Thread(this::serve, "slow-reader-provider");
    server.setDaemon(true);
    server.start();
    String name = "slow-" + UUID.randomUUID().toString().substring(0, 8);
    ManagedProviderAdmin.addAndAwaitUp(
        name, "http://127.0.0.1:" + provider.getLocalPort() + "/v1", "sk-slow-0123456789");
    return name + "/m";
  }

  /** Sends a streamed chat on a raw connection whose receive buffer is small. */
  private static Socket call(String model) throws IOException {
    Socket caller = new Socket();
    caller.setReceiveBufferSize(64 << 10);
    caller.connect(new InetSocketAddress("127.0.0.1", RestAssured.port));
    caller.setSoTimeout(30_000);
    caller.getOutputStream().write(request(model));
    return caller;
  }

  /** The response's status and headers read, its chunked body as lines. */
  private static BufferedReader body(Socket caller) throws IOException {
    InputStream in = new BufferedInputStream(caller.getInputStream());
    assertThat(line(in)).startsWith("HTTP/1.1 200");
    while (!line(in).isEmpty()) {
      // headers
    }
    return new BufferedReader(new InputStreamReader(new ChunkedStream(in), StandardCharsets.UTF_8));
  }

  /** Accepts the gateway's connections, each served on a thread of its own. */
  private void serve() {
    while (!provider.isClosed()) {
      try {
        Socket s = provider.accept();
        Thread t = new Thread(() -> serve(s), "slow-reader-provider-connection");
        t.setDaemon(true);
        t.start();
      } catch (IOException e) {
        return; // closed at the end of the test
      }
    }
  }

  /** Answers probes' and validation's {@code GET /models}, and a chat with the long stream. */
  private void serve(Socket connection) {
    try (Socket s = connection) {
      s.setSendBufferSize(64 << 10);
      InputStream in = new BufferedInputStream(s.getInputStream());
      OutputStream out = s.getOutputStream();
      while (true) {
        String requestLine = line(in);
        if (requestLine.isEmpty()) {
          break;
        }
        long length = 0;
        for (String h = line(in); !h.isEmpty(); h = line(in)) {
          if (h.toLowerCase().startsWith("content-length:")) {
            length = Long.parseLong(h.substring(15).trim());
          }
        }
        in.readNBytes((int) length);
        if (requestLine.startsWith("GET")) {
          byte[] models = "{\"object\":\"list\",\"data\":[]}".getBytes(StandardCharsets.UTF_8);
          out.write(
              ("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                      + models.length
                      + "\r\n\r\n")
                  .getBytes(StandardCharsets.US_ASCII));
          out.write(models);
          out.flush();
          continue;
        }
        out.write(
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
                .getBytes(StandardCharsets.US_ASCII));
        byte[] e = event;
        for (long n = 0; n < eventCount; n++) {
          out.write(e);
          written.addAndGet(e.length);
        }
        out.write("data: [DONE]\n\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
        break;
      }
    } catch (IOException e) {
      // The gateway went away, or the test ended.
    }
  }

  private static byte[] request(String model) {
    byte[] body =
        ("{\"model\":\""
                + model
                + "\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")
            .getBytes(StandardCharsets.UTF_8);
    String head =
        "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\n"
            + "Authorization: Bearer atelier-local-key\r\nContent-Type: application/json\r\n"
            + "Content-Length: "
            + body.length
            + "\r\n\r\n";
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    all.writeBytes(head.getBytes(StandardCharsets.US_ASCII));
    all.writeBytes(body);
    return all.toByteArray();
  }

  /** One CRLF- or LF-terminated line, without its end; empty at the end of the stream. */
  private static String line(InputStream in) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    for (int c = in.read(); c >= 0 && c != '\n'; c = in.read()) {
      if (c != '\r') {
        b.write(c);
      }
    }
    return b.toString(StandardCharsets.US_ASCII);
  }

  /** The body of a chunked HTTP/1.1 response. */
  private static final class ChunkedStream extends InputStream {
    private final InputStream in;
    private long left;
    private boolean done;

    ChunkedStream(InputStream in) {
      this.in = in;
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (done) {
        return -1;
      }
      if (left == 0) {
        String size = line(in);
        if (size.isEmpty()) {
          size = line(in); // the CRLF after the previous chunk
        }
        left = Long.parseLong(size.split(";")[0].trim(), 16);
        if (left == 0) {
          done = true;
          return -1;
        }
      }
      int n = in.read(b, off, (int) Math.min(len, left));
      if (n < 0) {
        throw new IOException("the stream ended inside a chunk");
      }
      left -= n;
      return n;
    }
  }
}
