-- Less written per workflow step (measured with deploy/bench/wal-by-relation.py, docs/benchmarks/end-to-end.md).
--
-- An outbox body (a step request carries its agent definition: 3-5 kB of JSON) was compressed and then moved out
-- of line into the TOAST table, so every message also inserted TOAST chunks and their index entries, and deleting
-- the published row deleted the chunks again: about 15 % of the WAL a step wrote. Stored MAIN, the body is still
-- compressed but stays in its row unless the row would not fit in a page (a compressed body of about 8 kB).
-- The short text columns are MAIN too: while a row is over the TOAST threshold PostgreSQL first moves any EXTENDED
-- value longer than a TOAST pointer out of line, however short (an event type of 26 bytes became a chunk of its
-- own), before it compresses a MAIN one. Rows written before this migration keep their chunks until deleted.
alter table outbox
    alter column body set storage main,
    alter column exchange set storage main,
    alter column routing_key set storage main,
    alter column event_type set storage main,
    alter column trace_headers set storage main,
    alter column last_error set storage main;

-- Every lookup of a workflow's steps by workflow id is served by the unique (workflow_id, step_key) index just as
-- well (the same plan, then a sort of a workflow's few steps by position); the (workflow_id, position) index only
-- cost an entry on every insert and every non-HOT update of a step.
drop index workflow_step_workflow_idx;
