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
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
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
    // The row keeps microseconds: round once, so that the rollups bucket the time the row has
    // (23:59:59.9999998 is stored as the next day's 00:00:00, and must be summed there).
    List<LlmCallRecorded> rounded = records.stream().map(LedgerService::atMicros).toList();
    Set<UUID> inserted = calls.insertAll(rounded);
    Map<UUID, LlmCallRecorded> added = new LinkedHashMap<>();
    for (LlmCallRecorded r : rounded) {
      if (inserted.contains(r.eventId())) {
        added.putIfAbsent(r.eventId(), r);
      }
    }
    rollups.add(added.values());
    stored.increment(inserted.size());
    duplicates.increment(records.size() - inserted.size());
    return inserted;
  }

  /** The record with its times at the precision the ledger stores them. */
  private static LlmCallRecorded atMicros(LlmCallRecorded r) {
    Instant occurredAt = LlmCallRepository.storedInstant(r.occurredAt());
    Instant startedAt =
        r.startedAt() == null ? null : LlmCallRepository.storedInstant(r.startedAt());
    if (occurredAt.equals(r.occurredAt()) && Objects.equals(startedAt, r.startedAt())) {
      return r;
    }
    return new LlmCallRecorded(
        r.eventId(),
        r.type(),
        occurredAt,
        r.workflowId(),
        r.stepId(),
        r.agent(),
        r.conversationId(),
        r.team(),
        r.operation(),
        r.provider(),
        r.requestModel(),
        r.responseModel(),
        r.status(),
        r.errorCode(),
        r.streamed(),
        r.inputTokens(),
        r.cachedInputTokens(),
        r.outputTokens(),
        r.reasoningTokens(),
        r.usageSource(),
        r.costUsd(),
        r.priceVersion(),
        startedAt,
        r.latencyMs(),
        r.timeToFirstTokenMs(),
        r.simulated(),
        r.traceId(),
        r.spanId(),
        r.fallbackPath());
  }

  public Optional<LlmCall> find(UUID id) {
    return calls.find(id);
  }

  /** Every call matching {@code filter}, newest first, streamed to {@code sink}. */
  public void export(LlmCallFilter filter, RowSink<LlmCall> sink) throws IOException {
    calls.stream(filter, sink);
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
