package dev.atelier.tracking.repository;

import java.io.IOException;

/** Receives rows one at a time as a query streams them, e.g. to write them to a response. */
@FunctionalInterface
public interface RowSink<T> {
  void accept(T row) throws IOException;
}
