-- A running call's claim is renewed by its replica (every sixth of the takeover time) rather than
-- aged from its start: a call is taken over once its replica stops renewing it, seconds after that
-- replica died, while a live call holds its key however long it runs. Null: never renewed, aged from
-- started_at (a claim from before this column, or younger than one renewal).
alter table idempotent_call add column renewed_at timestamptz;
