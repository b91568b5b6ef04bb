package dev.atelier.orchestrator;

import io.restassured.RestAssured;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

/** Reads a workflow's event stream on a thread of its own, like a browser's EventSource. */
final class SseClient implements AutoCloseable {

  /** One event as received. */
  record Event(long id, String name, String data) {}

  final List<Event> events = new CopyOnWriteArrayList<>();
  final int status;
  final String contentType;
  private final InputStream body;
  private final Thread reader;
  private volatile boolean ended;

  SseClient(UUID workflowId, Long lastEventId) throws Exception {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(
                URI.create(
                    "http://localhost:"
                        + RestAssured.port
                        + "/api/v1/workflows/"
                        + workflowId
                        + "/events"))
            .header("Accept", "text/event-stream")
            .timeout(Duration.ofSeconds(10));
    if (lastEventId != null) {
      request.header("Last-Event-ID", lastEventId.toString());
    }
    HttpResponse<InputStream> response =
        HttpClient.newHttpClient()
            .send(request.GET().build(), HttpResponse.BodyHandlers.ofInputStream());
    status = response.statusCode();
    contentType = response.headers().firstValue("content-type").orElse("");
    body = response.body();
    reader = new Thread(this::read, "sse-client");
    reader.setDaemon(true);
    reader.start();
  }

  boolean ended() {
    return ended;
  }

  private void read() {
    try (BufferedReader in =
        new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8))) {
      long id = -1;
      String name = null;
      StringBuilder data = new StringBuilder();
      String line;
      while ((line = in.readLine()) != null) {
        if (line.isEmpty()) {
          if (id >= 0 || data.length() > 0) {
            events.add(new Event(id, name, data.toString()));
          }
          id = -1;
          name = null;
          data.setLength(0);
        } else if (line.startsWith("id:")) {
          id = Long.parseLong(line.substring(3).strip());
        } else if (line.startsWith("event:")) {
          name = line.substring(6).strip();
        } else if (line.startsWith("data:")) {
          data.append(line.substring(5).strip());
        }
      }
    } catch (IOException e) {
      // closed by the test: a dropped connection
    } finally {
      ended = true;
    }
  }

  @Override
  public void close() throws IOException {
    body.close();
  }
}
