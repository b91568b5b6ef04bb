package dev.atelier.gateway.messaging;

import dev.atelier.contracts.EventCodec;
import dev.atelier.contracts.LlmCallRecorded;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

/**
 * A call record as the journal keeps it: what publishing needs (event id, time, workflow, trace
 * headers) in a small binary header, then the event encoded once by {@link EventCodec}, so the
 * publisher sends those bytes without decoding or encoding the event again.
 *
 * <p>Layout: event id (2 longs), occurredAt (epoch seconds, nanos), workflow id flag (+ 2 longs),
 * header count (short) and each header as two length-prefixed UTF-8 strings, then the JSON body.
 *
 * @param traceHeaders the W3C trace context the call ran in (traceparent, tracestate)
 */
public record JournaledRecord(
    UUID eventId,
    Instant occurredAt,
    UUID workflowId,
    Map<String, String> traceHeaders,
    byte[] body) {

  /** Encodes {@code event} with its trace headers into a journal payload. */
  public static byte[] encode(LlmCallRecorded event, Map<String, String> traceHeaders) {
    byte[] body = EventCodec.write(event);
    byte[][] strings = new byte[traceHeaders.size() * 2][];
    int size = 16 + 12 + 1 + (event.workflowId() != null ? 16 : 0) + 2 + body.length;
    int i = 0;
    for (Map.Entry<String, String> h : traceHeaders.entrySet()) {
      strings[i] = h.getKey().getBytes(StandardCharsets.UTF_8);
      strings[i + 1] = h.getValue().getBytes(StandardCharsets.UTF_8);
      size += 4 + strings[i].length + strings[i + 1].length;
      i += 2;
    }
    ByteBuffer buf = ByteBuffer.allocate(size);
    buf.putLong(event.eventId().getMostSignificantBits());
    buf.putLong(event.eventId().getLeastSignificantBits());
    buf.putLong(event.occurredAt().getEpochSecond()).putInt(event.occurredAt().getNano());
    if (event.workflowId() != null) {
      buf.put((byte) 1);
      buf.putLong(event.workflowId().getMostSignificantBits());
      buf.putLong(event.workflowId().getLeastSignificantBits());
    } else {
      buf.put((byte) 0);
    }
    buf.putShort((short) traceHeaders.size());
    for (byte[] s : strings) {
      buf.putShort((short) s.length).put(s);
    }
    buf.put(body);
    return buf.array();
  }

  /** Reads a payload written by {@link #encode}. */
  public static JournaledRecord decode(byte[] payload) {
    ByteBuffer buf = ByteBuffer.wrap(payload);
    UUID eventId = new UUID(buf.getLong(), buf.getLong());
    Instant occurredAt = Instant.ofEpochSecond(buf.getLong(), buf.getInt());
    UUID workflowId = buf.get() == 1 ? new UUID(buf.getLong(), buf.getLong()) : null;
    int headers = buf.getShort();
    Map<String, String> trace = new LinkedHashMap<>();
    for (int i = 0; i < headers; i++) {
      String k = string(buf);
      trace.put(k, string(buf));
    }
    byte[] body = new byte[buf.remaining()];
    buf.get(body);
    return new JournaledRecord(eventId, occurredAt, workflowId, trace, body);
  }

  private static String string(ByteBuffer buf) {
    byte[] b = new byte[buf.getShort()];
    buf.get(b);
    return new String(b, StandardCharsets.UTF_8);
  }
}
