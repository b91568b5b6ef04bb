-- A step request's row names its step and attempt, so the transaction that cancels a step, sends it back or times it
-- out also deletes its request while still unsent (otherwise the worker runs and pays for it after the workflow has
-- stopped). Null for other messages and for rows written before this migration. Nullable without a default: no
-- rewrite of the table.
alter table outbox
    add column step_id uuid,
    add column attempt int;
