package dev.atelier.tracking;

import static dev.atelier.tracking.CallBuilder.call;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.atelier.contracts.LlmCallRecorded;
import dev.atelier.kit.amqp.EventPublisher;
import dev.atelier.tracking.service.ExportSlots;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

/**
 * An export whose client stops reading is cut off at {@code TRACKING_EXPORT_MAX_DURATION}, end to
 * end: its writes block once the socket buffers are full, so only the timer that resets the
 * connection can end it, giving back its slot and its database connection.
 */
@QuarkusTest
@TestProfile(CsvExportCutOffTest.TwoSeconds.class)
class CsvExportCutOffTest {

  public static class TwoSeconds implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      return Map.of("tracking.export.max-duration", "PT2S");
    }
  }

  /**
   * Rows exported: about 50 MB of CSV, far more than the socket buffers hold, and than the 16 MB an
   * HTTP/2 stream of the JDK's client takes in unread.
   */
  private static final int ROWS = 130_000;

  /** The team of the rows, written once for both tests. */
  private static String team;

  @Inject EventPublisher publisher;
  @Inject DataSource dataSource;
  @Inject MeterRegistry registry;
  @Inject ExportSlots exports;

  @TestHTTPResource("/")
  URL root;

  @Test
  void anExportWhoseClientStopsReadingIsCutOffAndLetsGoOfItsSlotAndConnection() throws Exception {
    String team = rows();

    try (Socket client = new Socket()) {
      client.setReceiveBufferSize(4096); // before connecting, so the window stays small
      client.connect(new InetSocketAddress(root.getHost(), root.getPort()));
      client
          .getOutputStream()
          .write(
              ("GET /api/v1/llm-calls?team="
                      + team
                      + " HTTP/1.1\r\nHost: localhost\r\nAccept: text/csv\r\n\r\n")
                  .getBytes(StandardCharsets.US_ASCII));
      await().atMost(Duration.ofSeconds(5)).until(() -> exports.taken() == 1);

      // The client reads nothing: past two seconds the export is cut off all the same.
      await()
          .pollDelay(Duration.ofSeconds(1))
          .atMost(Duration.ofSeconds(10))
          .until(() -> exports.taken() == 0 && !exportQueryRunning());

      byte[] received = readAll(client.getInputStream());
      String text = new String(received, StandardCharsets.UTF_8);
      assertThat(text).startsWith("HTTP/1.1 200");
      // Cut off: not the whole ledger, and no last chunk.
      assertThat(received.length).isLessThan(ROWS * 200);
      assertThat(text).doesNotEndWith("\r\n0\r\n\r\n");
    }
    // The next export is served.
    given().accept("text/csv").get("/api/v1/llm-calls?team=nobody").then().statusCode(200);
  }

  @Test
  void overHttp2TheExportsStreamIsResetAndTheClientsNextRequestServed() throws Exception {
    String team = rows();
    HttpClient h2 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build();
    URI export = root.toURI().resolve("/api/v1/llm-calls?team=" + team);

    HttpResponse<InputStream> response =
        h2.send(
            HttpRequest.newBuilder(export).header("Accept", "text/csv").build(),
            HttpResponse.BodyHandlers.ofInputStream());
    assertThat(response.version())
        .as("h2c, upgraded from HTTP/1.1")
        .isEqualTo(HttpClient.Version.HTTP_2);
    // The client reads nothing: past two seconds the export's stream is reset.
    await()
        .pollDelay(Duration.ofSeconds(1))
        .atMost(Duration.ofSeconds(10))
        .until(() -> exports.taken() == 0 && !exportQueryRunning());

    try (InputStream body = response.body()) {
      assertThatThrownBy(() -> body.transferTo(OutputStream.nullOutputStream()))
          .isInstanceOf(IOException.class);
    }
    // The client's next request is served. (Whether on the same connection, which only the stream
    // reset leaves open for other streams, the JDK's client does not tell.)
    HttpResponse<String> next =
        h2.send(
            HttpRequest.newBuilder(root.toURI().resolve("/api/v1/llm-calls?team=nobody"))
                .header("Accept", "text/csv")
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(next.statusCode()).isEqualTo(200);
    assertThat(next.version()).isEqualTo(HttpClient.Version.HTTP_2);
  }

  /** The team whose {@link #ROWS} calls are in the ledger, written on first use. */
  private String rows() throws Exception {
    if (team == null) {
      String t = "team-cutoff-" + UUID.randomUUID();
      LlmCallRecorded one = call().team(t).at(Instant.now().minusSeconds(600)).build();
      Ledger ledger = new Ledger(publisher, dataSource, registry);
      ledger.publish(one);
      ledger.awaitRows(List.of(one.eventId()));
      copies(one.eventId(), ROWS - 1);
      team = t;
    }
    return team;
  }

  /** Inserts {@code n} copies of a ledger row under new ids, a millisecond apart. */
  private void copies(UUID eventId, int n) throws Exception {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "insert into llm_call select (jsonb_populate_record(null::llm_call, to_jsonb(l)"
                    + " || jsonb_build_object('event_id', gen_random_uuid(), 'occurred_at',"
                    + " l.occurred_at - g * interval '1 millisecond'))).*"
                    + " from llm_call l, generate_series(1, ?) g where l.event_id = ?")) {
      ps.setInt(1, n);
      ps.setObject(2, eventId);
      assertThat(ps.executeUpdate()).isEqualTo(n);
    }
  }

  /** Whether a statement reading the ledger for an export is still running in the database. */
  private boolean exportQueryRunning() throws Exception {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "select count(*) from pg_stat_activity where datname = current_database()"
                    + " and pid <> pg_backend_pid() and state <> 'idle'"
                    + " and query ilike '%from llm_call%'");
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getLong(1) > 0;
    }
  }

  /** Everything the server sends until it closes or resets the connection. */
  private static byte[] readAll(InputStream in) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buffer = new byte[65536];
    try {
      for (int n; (n = in.read(buffer)) > 0; ) {
        out.write(buffer, 0, n);
      }
    } catch (IOException reset) {
      // The reset that cut the answer off, once the bytes before it are read.
    }
    return out.toByteArray();
  }
}
