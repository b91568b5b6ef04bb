-- Versioned price table: one row per (provider, model, effective_from). A price change is a new row,
-- so a record's priceVersion always names the exact prices it was costed with.
create table price (
    id                    uuid primary key default gen_random_uuid(),
    provider              text          not null,
    model                 text          not null,
    input_per_mtok        numeric(18, 9) not null check (input_per_mtok >= 0),
    cached_input_per_mtok numeric(18, 9) not null check (cached_input_per_mtok >= 0),
    output_per_mtok       numeric(18, 9) not null check (output_per_mtok >= 0),
    effective_from        timestamptz   not null,
    version               text          not null,
    unique (provider, model, effective_from)
);

-- USD per 1M tokens, OpenAI list prices (standard tier).
insert into price (provider, model, input_per_mtok, cached_input_per_mtok, output_per_mtok, effective_from, version) values
    ('openai', 'gpt-4o',       2.50,  1.25,   10.00, '2024-10-01T00:00:00Z', 'openai-2024-10'),
    ('openai', 'gpt-4o-mini',  0.15,  0.075,   0.60, '2024-07-18T00:00:00Z', 'openai-2024-07'),
    ('openai', 'gpt-4.1',      2.00,  0.50,    8.00, '2025-04-14T00:00:00Z', 'openai-2025-04'),
    ('openai', 'gpt-4.1-mini', 0.40,  0.10,    1.60, '2025-04-14T00:00:00Z', 'openai-2025-04'),
    ('openai', 'gpt-4.1-nano', 0.10,  0.025,   0.40, '2025-04-14T00:00:00Z', 'openai-2025-04'),
    ('openai', 'o4-mini',      1.10,  0.275,   4.40, '2025-04-16T00:00:00Z', 'openai-2025-04'),
    ('openai', 'o3',           2.00,  0.50,    8.00, '2025-06-10T00:00:00Z', 'openai-2025-06'),
    ('openai', 'o3-mini',      1.10,  0.55,    4.40, '2025-01-31T00:00:00Z', 'openai-2025-01'),
    ('openai', 'gpt-5',        1.25,  0.125,  10.00, '2025-08-07T00:00:00Z', 'openai-2025-08'),
    ('openai', 'gpt-5-mini',   0.25,  0.025,   2.00, '2025-08-07T00:00:00Z', 'openai-2025-08'),
    ('openai', 'gpt-5-nano',   0.05,  0.005,   0.40, '2025-08-07T00:00:00Z', 'openai-2025-08'),
    -- The simulated provider borrows the real price of the model a caller names (so demo costs look
    -- real); a model nobody prices falls back to this explicit default row.
    ('simulated', '*',         0.15,  0.075,   0.60, '2025-01-01T00:00:00Z', 'simulated-default-v1');

-- Call records whose confirmed publish failed (broker down): kept here and re-published by the
-- retrier, so a record is never lost while the broker is away. The event id is the primary key, so
-- spooling the same record twice is a no-op; consumers deduplicate on it after a re-publish.
create table pending_call_record (
    event_id       uuid primary key,
    event          jsonb       not null,
    trace_headers  jsonb       not null default '{}'::jsonb,
    attempts       integer     not null default 0,
    created_at     timestamptz not null default now(),
    last_error     text
);

create index pending_call_record_created_at on pending_call_record (created_at);
