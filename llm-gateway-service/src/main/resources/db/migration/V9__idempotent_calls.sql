-- Calls made with an Idempotency-Key, and their answers, kept for a repeat of the call (a client
-- retrying after a timeout, a worker re-running a step attempt whose answers it lost): a repeat
-- with the same key and the same body is answered from here without calling (or paying) a provider
-- again. A row without an answer is a call still running; one older than the takeover time is taken
-- to have died with its replica. Rows are deleted after the retention time.
--
-- Unlogged: a row lives minutes to hours and is written once per call, and a commit touching only
-- this table does not wait for a WAL flush. A PostgreSQL crash empties it: repeats after that are
-- new calls, paid again, as they were before keys existed.
create unlogged table idempotent_call (
    team           text        not null,
    idem_key       text        not null,
    request_sha256 bytea       not null,
    claim_id       uuid        not null,
    started_at     timestamptz not null,
    call_id        uuid,
    answer         bytea,
    primary key (team, idem_key)
);

-- The expired ones, for their deletion. A block range index would be smaller, but rows are not
-- stored in time order once deleted space is reused (and a takeover moves started_at).
create index idempotent_call_started_at on idempotent_call (started_at);
