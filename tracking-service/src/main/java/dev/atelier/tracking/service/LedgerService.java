package dev.atelier.tracking.service;

import dev.atelier.contracts.EventChecks;
import dev.atelier.contracts.LlmCallRecorded;
import dev.atelier.tracking.model.LlmCall;
import dev.atelier.tracking.model.LlmCallFilter;
import dev.atelier.tracking.model.Page;
import dev.atelier.tracking.model.PageCursor;
import dev.atelier.tracking.repository.LlmCallRepository;
import dev.atelier.tracking.repository.RowSink;
import dev.atelier.tracking.repository.UsageRollupRepository;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.instrumentation.annotations.WithSpan;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;
import java.io.IOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/** Stores LLM-call records exactly once and reads them back. */
@ApplicationScoped
public class LedgerService {

  private final LlmCallRepository calls;
  private final UsageRollupRepository rollups;
  private final Counter stored;
  private final Counter duplicates;

  LedgerService(LlmCallRepository calls, UsageRollupRepository rollups, MeterRegistry registry) {
    this.calls = calls;
    this.rollups = rollups;
    this.stored = counter(registry, "stored");
    this.duplicates = counter(registry, "duplicate");
  }

  /**
   * Stores one record unless the ledger has it already.
   *
   * @return false for a duplicate (a redelivery or a re-publish), which changes nothing
   * @throws dev.atelier.contracts.MalformedEventException when the record is not valid
   */
  @Transactional
  @WithSpan("insert llm_call")
  public boolean record(LlmCallRecorded record) {
    return recordAll(List.of(record)).contains(record.eventId());
  }

  /**
   * Stores a batch of records in one transaction with multi-row inserts and adds the new ones (only
   * those: never a duplicate, even one within the batch) to the usage rollups in the same
   * transaction; the ids returned are those that were new. One invalid record rejects the whole
   * batch (the consumer checks each record before batching, with {@link EventChecks}).
   */
  @Transactional
  @WithSpan("insert llm_call batch")
  public Set<UUID> recordAll(List<LlmCallRecorded> records) {
    records.forEach(EventChecks::check);
    Set<UUID> inserted = calls.insertAll(records);
    Map<UUID, LlmCallRecorded> added = new LinkedHashMap<>();
    for (LlmCallRecorded r : records) {
      if (inserted.contains(r.eventId())) {
        added.putIfAbsent(r.eventId(), r);
      }
    }
    rollups.add(added.values());
    stored.increment(inserted.size());
    duplicates.increment(records.size() - inserted.size());
    return inserted;
  }

  public Optional<LlmCall> find(UUID id) {
    return calls.find(id);
  }

  /**
   * Every call matching {@code filter}, newest first, streamed to {@code sink}; each database
   * statement cancelled past {@code timeout}.
   */
  public void export(LlmCallFilter filter, Duration timeout, RowSink<LlmCall> sink)
      throws IOException {
    calls.stream(filter, timeout, sink);
  }

  /** One page of calls, newest first. */
  public Page<LlmCall> list(LlmCallFilter filter, PageCursor after, int limit) {
    // One row more than asked says whether another page exists without a count query.
    List<LlmCall> rows = calls.list(filter, after, limit + 1);
    if (rows.size() <= limit) {
      return new Page<>(rows, null);
    }
    List<LlmCall> page = rows.subList(0, limit);
    LlmCall last = page.get(limit - 1);
    return new Page<>(page, new PageCursor(last.occurredAt(), last.id()).encode());
  }

  private static Counter counter(MeterRegistry registry, String outcome) {
    return Counter.builder("atelier.tracking.llm.calls")
        .description("LLM-call records received by the ledger, by outcome")
        .tag("outcome", outcome)
        .register(registry);
  }
}
