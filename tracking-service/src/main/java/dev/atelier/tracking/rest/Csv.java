package dev.atelier.tracking.rest;

import dev.atelier.tracking.model.UsageFigures;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.StreamingOutput;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;
import org.jboss.logging.Logger;

/**
 * Writes RFC 4180 CSV: a field holding a comma, a double quote, CR or LF is quoted, and its quotes
 * are doubled. Nulls are empty fields; decimals are written in full (never in exponent notation),
 * so a cost stays exact.
 */
final class Csv {

  static final String MEDIA_TYPE = "text/csv";

  /** For {@code @Produces}: CSV, preferred below JSON when the client accepts both equally. */
  static final String PRODUCES = "text/csv;qs=0.5";

  private final Writer out;

  /** Writes the rows of one response. */
  @FunctionalInterface
  interface Rows {
    void write(Csv csv) throws IOException;
  }

  /**
   * A {@code 200} (to {@code build()}) whose body is written as it is produced (never built in
   * memory), offered for download as {@code filename}. Parameters must be checked before calling
   * this: once streaming starts, an error can no longer become a problem response.
   */
  static Response.ResponseBuilder attachment(String filename, Rows rows) {
    return attachment(filename, rows, null);
  }

  /**
   * Like {@link #attachment(String, Rows)}, for a long download: when writing it fails (its client
   * left, or it was cut off), {@code abort} resets the connection, so that nothing more reaches the
   * client, which sees the download fail, and the download's end is logged, not reported as an
   * error; when producing it fails, the connection is reset too and the error reported.
   */
  static Response.ResponseBuilder attachment(String filename, Rows rows, Runnable abort) {
    StreamingOutput body =
        out -> {
          Writer writer =
              new BufferedWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8), 64 * 1024);
          try {
            rows.write(new Csv(writer));
            writer.flush();
          } catch (IOException e) {
            if (abort == null) {
              throw e;
            }
            abort.run();
            LOG.infof("the download of %s ended before its end: %s", filename, e.getMessage());
          } catch (RuntimeException e) {
            // Too late for a problem answer: the client must not get a short file that ends well.
            if (abort != null) {
              abort.run();
            }
            throw e;
          }
        };
    return Response.ok(body, MEDIA_TYPE + "; charset=utf-8")
        .header("Content-Disposition", "attachment; filename=\"" + filename + "\"");
  }

  private static final Logger LOG = Logger.getLogger(Csv.class);

  Csv(Writer out) {
    this.out = out;
  }

  /** Writes one record, CRLF-terminated as RFC 4180 says. */
  void row(Object... fields) throws IOException {
    for (int i = 0; i < fields.length; i++) {
      if (i > 0) {
        out.write(',');
      }
      out.write(escape(fields[i]));
    }
    out.write("\r\n");
  }

  /** The header names of {@link #figures}. */
  static final String[] FIGURE_COLUMNS = {
    "calls",
    "errors",
    "inputTokens",
    "cachedInputTokens",
    "outputTokens",
    "reasoningTokens",
    "costUsd",
    "unknownCostCalls",
    "latencyMsP50",
    "latencyMsP95",
    "latencyMsP99",
    "latencyMsMean",
    "timeToFirstTokenMsP50",
    "timeToFirstTokenMsP95"
  };

  /** A usage group's figures, in {@link #FIGURE_COLUMNS} order. */
  static Object[] figures(UsageFigures f) {
    return new Object[] {
      f.calls(),
      f.errors(),
      f.inputTokens(),
      f.cachedInputTokens(),
      f.outputTokens(),
      f.reasoningTokens(),
      f.costUsd(),
      f.unknownCostCalls(),
      f.latencyMsP50(),
      f.latencyMsP95(),
      f.latencyMsP99(),
      f.latencyMsMean(),
      f.timeToFirstTokenMsP50(),
      f.timeToFirstTokenMsP95()
    };
  }

  /** {@code leading} followed by {@code rest}, for a row of key fields then figures. */
  static Object[] concat(Object[] leading, Object[] rest) {
    return Stream.concat(Stream.of(leading), Stream.of(rest)).toArray();
  }

  static String escape(Object value) {
    if (value == null) {
      return "";
    }
    String s = value instanceof BigDecimal d ? d.toPlainString() : value.toString();
    boolean quote =
        s.indexOf(',') >= 0 || s.indexOf('"') >= 0 || s.indexOf('\n') >= 0 || s.indexOf('\r') >= 0;
    return quote ? '"' + s.replace("\"", "\"\"") + '"' : s;
  }
}
