package dev.atelier.worker;

import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SpanProcessor;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

/** Keeps every finished span in memory, exported synchronously, for assertions. */
@Singleton
public class TestSpans {

  private final InMemorySpanExporter exporter = InMemorySpanExporter.create();

  @Produces
  @Singleton
  SpanProcessor inMemory() {
    return SimpleSpanProcessor.create(exporter);
  }

  public InMemorySpanExporter exporter() {
    return exporter;
  }
}
