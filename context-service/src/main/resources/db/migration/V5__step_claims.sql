-- Which worker runs which step attempt: a lease a worker takes before it calls a model, renews
-- while it runs and deletes when done. A second delivery of the same attempt (an outbox message
-- published twice, a redelivery after a dropped connection) finds the lease held and waits for it
-- instead of paying for the same LLM calls again. A lease whose holder died expires; its row is
-- deleted a day later.
create table step_claim (
  workflow_id uuid not null,
  claim_key   text not null,
  holder      text not null,
  claimed_at  timestamptz not null default now(),
  expires_at  timestamptz not null,
  primary key (workflow_id, claim_key)
);

create index step_claim_expires_at on step_claim (expires_at);
