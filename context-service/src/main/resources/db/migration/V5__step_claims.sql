-- Which worker runs which step attempt: a lease a worker takes before it calls a model, renews
-- while it runs and deletes when done. A second delivery of the same attempt (an outbox message
-- published twice, a redelivery after a dropped connection) finds the lease held and waits for it
-- instead of paying for the same LLM calls again. A lease whose holder died expires; its row is
-- deleted a day later.
-- Unlogged: a lease lives seconds, and each step inserts and deletes one, so it writes no WAL and
-- its commit waits for no disk flush. A crash of PostgreSQL empties the table (as it would a
-- cache): leases held then are forgotten, and a second delivery of a running step could run it
-- again, as before leases existed. Not replicated to a standby, for the same reason.
create unlogged table step_claim (
  workflow_id uuid not null,
  claim_key   text not null,
  holder      text not null,
  claimed_at  timestamptz not null default now(),
  expires_at  timestamptz not null,
  primary key (workflow_id, claim_key)
);
-- No index on expires_at: the hourly deletion of leases that ran out reads the table whole, which
-- holds about as many rows as steps running; an index would cost every step's insert and delete.
