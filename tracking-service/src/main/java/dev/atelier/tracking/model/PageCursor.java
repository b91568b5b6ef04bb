package dev.atelier.tracking.model;

import dev.atelier.kit.db.StorableTime;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Base64;
import java.util.UUID;

/**
 * Position after the last row of a page, in the list's order ({@code occurredAt} descending, then
 * id descending). Opaque to clients: base64url of the row's time and id, so the next page starts
 * exactly after it even when rows share a timestamp or new rows arrive meanwhile.
 */
public record PageCursor(Instant occurredAt, UUID id) {

  public String encode() {
    String raw = occurredAt + "|" + id;
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString(raw.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * @throws IllegalArgumentException when {@code token} is not a cursor this service issued
   */
  public static PageCursor decode(String token) {
    try {
      String raw = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
      int bar = raw.indexOf('|');
      if (bar < 0) {
        throw new IllegalArgumentException("not a cursor");
      }
      Instant occurredAt = Instant.parse(raw.substring(0, bar));
      if (!StorableTime.holds(occurredAt)) {
        // Never issued (stored rows are within it), and PostgreSQL could not compare with it.
        throw new IllegalArgumentException("not a cursor");
      }
      return new PageCursor(occurredAt, UUID.fromString(raw.substring(bar + 1)));
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException("not a cursor", e);
    }
  }
}
