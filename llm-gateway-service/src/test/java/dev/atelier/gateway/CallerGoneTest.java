package dev.atelier.gateway;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.atelier.contracts.Headers;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import java.io.IOException;
import java.math.BigDecimal;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import javax.sql.DataSource;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A caller that disconnects while its call waits for its budget reservation: the call must not go
 * to a provider (and be paid for an answer nobody reads). The close happens on the event loop while
 * the reservation runs on a worker thread, before the call registers the close handler that would
 * cancel it, so the call checks for it when it starts.
 *
 * <p>Made deterministic with the database: the test holds the lock of the budget's spend row, so
 * the reservation waits until the caller is gone, and a second caller's reservation queues behind
 * it. Once both are settled, the budget has been charged for the second call only.
 */
@QuarkusTest
class CallerGoneTest {

  private static final String SERVICE_KEY = "Bearer test-key-service";
  private static final String ADMIN = "Bearer atelier-local-admin-key";
  private static final BudgetedChat CHAT =
      new BudgetedChat("Describe the parcel tracking feature in one paragraph.", 5);

  @Inject DataSource dataSource;

  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void aCallerGoneWhileItsBudgetIsReservedIsNeverSent(boolean stream) throws Exception {
    // The gateway's end of the connection is read from Linux's socket table.
    assumeTrue(Files.isReadable(Path.of("/proc/net/tcp")), "needs /proc/net/tcp");
    String team = "gone-" + UUID.randomUUID();
    given()
        .header("Authorization", ADMIN)
        .contentType(ContentType.JSON)
        .body("{\"limitUsd\":100}")
        .put("/admin/budgets/team/" + team)
        .then()
        .statusCode(200);
    String body = stream ? CHAT.body().replaceFirst("\\{", "{\"stream\":true,") : CHAT.body();
    // What one call costs: the simulated provider answers the same prompt the same way.
    assertThat(chat(team, body).statusCode()).isEqualTo(200);
    BigDecimal one = settledSpend(team);
    assertThat(one).isPositive();

    CompletableFuture<Response> second;
    try (Connection lock = dataSource.getConnection()) {
      lock.setAutoCommit(false);
      lockSpendRow(lock, team);
      try (Socket gone = new Socket("localhost", RestAssured.port)) {
        gone.getOutputStream().write(request(team, body));
        await().atMost(Duration.ofSeconds(10)).until(() -> waitingReservations() == 1);
        second = CompletableFuture.supplyAsync(() -> chat(team, body));
        await().atMost(Duration.ofSeconds(10)).until(() -> waitingReservations() == 2);
        int port = gone.getLocalPort();
        gone.close();
        // The gateway has closed its end: the close has reached its event loop.
        await().atMost(Duration.ofSeconds(10)).until(() -> !serverSideOpen(port));
      }
      lock.rollback();
    }

    assertThat(second.get().statusCode()).isEqualTo(200);
    assertThat(settledSpend(team)).isEqualByComparingTo(one.add(one));
  }

  private static Response chat(String team, String body) {
    return given()
        .header("Authorization", SERVICE_KEY)
        .header(Headers.TEAM, team)
        .contentType(ContentType.JSON)
        .body(body)
        .post("/v1/chat/completions");
  }

  private static byte[] request(String team, String body) {
    byte[] content = body.getBytes(StandardCharsets.UTF_8);
    String head =
        "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nAuthorization: "
            + SERVICE_KEY
            + "\r\n"
            + Headers.TEAM
            + ": "
            + team
            + "\r\nContent-Type: application/json\r\nContent-Length: "
            + content.length
            + "\r\n\r\n";
    byte[] head8 = head.getBytes(StandardCharsets.US_ASCII);
    byte[] all = new byte[head8.length + content.length];
    System.arraycopy(head8, 0, all, 0, head8.length);
    System.arraycopy(content, 0, all, head8.length, content.length);
    return all;
  }

  /** The team budget's spent once no call holds a reservation on it. */
  private BigDecimal settledSpend(String team) {
    return await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () -> {
              Response r =
                  given().header("Authorization", ADMIN).get("/admin/budgets/team/" + team);
              return new BigDecimal(r.jsonPath().getString("reservedUsd")).signum() == 0
                  ? new BigDecimal(r.jsonPath().getString("spentUsd"))
                  : null;
            },
            spent -> spent != null);
  }

  private void lockSpendRow(Connection c, String team) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "select s.budget_id from budget_spend s join budget b on b.id = s.budget_id"
                + " where b.scope = 'team' and b.scope_key = ? for update of s")) {
      ps.setString(1, team);
      try (ResultSet rs = ps.executeQuery()) {
        assertThat(rs.next()).as("the first call created the spend row").isTrue();
      }
    }
  }

  /** Reservations waiting for the spend row's lock. */
  private int waitingReservations() throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "select count(*) from pg_stat_activity where wait_event_type = 'Lock'"
                    + " and query like 'update budget_spend s set reserved_usd%'");
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getInt(1);
    }
  }

  /**
   * Whether the gateway's side of the connection from {@code clientPort} is still open
   * (established, or closed by the client only), read from the kernel's socket table.
   */
  private static boolean serverSideOpen(int clientPort) throws IOException {
    String local = String.format(Locale.ROOT, ":%04X", RestAssured.port);
    String remote = String.format(Locale.ROOT, ":%04X", clientPort);
    for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
      Path path = Path.of(table);
      if (!Files.exists(path)) {
        continue;
      }
      for (String line : Files.readAllLines(path)) {
        String[] f = line.trim().split("\\s+");
        // sl local_address rem_address st ...; st 01 established, 08 close-wait
        if (f.length > 3
            && f[1].endsWith(local)
            && f[2].endsWith(remote)
            && (f[3].equals("01") || f[3].equals("08"))) {
          return true;
        }
      }
    }
    return false;
  }
}
