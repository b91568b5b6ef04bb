-- The calls of one step (GET /api/v1/llm-calls?stepId=...) were found by reading the time index
-- backwards to its end: a step has a few calls, never a page of them, so every partition was scanned
-- whole (430 ms at 3.2M rows, growing with the ledger). A hash index: a step id is only ever
-- compared for equality, and a hash entry is about 33 bytes per row where a btree's over the
-- 36-character id is about twice that; rows without a step id are not indexed.
--
-- Cost (docs/benchmarks/ledger.md, 2026-12-07): about 4 PostgreSQL CPU-ms per 1,000 records
-- ingested. Built in this migration's transaction: on a large ledger, records wait in their queue
-- while it builds (about 4 s per 3 million rows here).
create index llm_call_step_idx on llm_call using hash (step_id);
