-- Spending limits in USD, per team or per workflow. spent_usd is what settled calls cost;
-- reserved_usd is the worst-case cost of the calls in flight. A call is admitted only when
-- spent + reserved + its own worst case fits under the limit (hard budgets), checked and reserved in
-- one conditional UPDATE, so concurrent calls on any number of replicas cannot jointly overshoot.
create table budget (
    id           uuid primary key default gen_random_uuid(),
    scope        text           not null check (scope in ('team', 'workflow')),
    scope_key    text           not null,
    limit_usd    numeric(24, 12) not null check (limit_usd >= 0),
    spent_usd    numeric(24, 12) not null default 0,
    reserved_usd numeric(24, 12) not null default 0,
    hard         boolean        not null default true,
    created_at   timestamptz    not null default now(),
    updated_at   timestamptz    not null default now(),
    unique (scope, scope_key)
);

-- One row per call and budget it reserved against. Settling deletes it; a reservation whose replica
-- died before settling expires and is charged in full (never under-counted).
create table budget_reservation (
    call_id    uuid            not null,
    budget_id  uuid            not null references budget (id) on delete cascade,
    amount_usd numeric(24, 12) not null,
    expires_at timestamptz     not null,
    primary key (call_id, budget_id)
);

create index budget_reservation_expires_at on budget_reservation (expires_at);
