-- The progress of each workflow as a numbered log: written in the transaction that changes the
-- state, so a client that reconnects after event n reads exactly what followed it.
create table workflow_event (
    workflow_id uuid        not null references workflow (id) on delete cascade,
    seq         bigint      not null check (seq >= 1),
    type        text        not null,
    data        jsonb       not null,
    created_at  timestamptz not null default now(),
    primary key (workflow_id, seq)
);

-- Cancelling deletes the workflow's unsent step requests.
create index outbox_workflow_idx on outbox (workflow_id) where workflow_id is not null;
