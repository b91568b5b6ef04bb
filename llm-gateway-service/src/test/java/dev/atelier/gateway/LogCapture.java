package dev.atelier.gateway;

import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Every log record of the running application while open (a handler on the root logger), with the
 * text of its message and of its exceptions: to prove a secret never reaches the logs.
 */
final class LogCapture extends Handler implements AutoCloseable {

  private final List<String> lines = new ArrayList<>();

  LogCapture() {
    setLevel(Level.ALL);
    Logger.getLogger("").addHandler(this);
  }

  @Override
  public synchronized void publish(LogRecord record) {
    StringBuilder sb = new StringBuilder(String.valueOf(record.getMessage()));
    if (record.getParameters() != null) {
      for (Object p : record.getParameters()) {
        sb.append(' ').append(p);
      }
    }
    for (Throwable t = record.getThrown(); t != null; t = t.getCause()) {
      sb.append(' ').append(t);
    }
    lines.add(sb.toString());
  }

  synchronized List<String> lines() {
    return List.copyOf(lines);
  }

  @Override
  public void flush() {}

  @Override
  public void close() {
    Logger.getLogger("").removeHandler(this);
  }
}
