-- One row per (workflow, artifact name): the version counter. Writers take its row lock through the
-- upsert that allocates the next version, so concurrent writes of one artifact get 1, 2, 3... with no
-- gaps (a rolled-back write rolls its increment back too) and never collide.
create table artifact_head (
    workflow_id    uuid        not null,
    name           text        not null,
    latest_version integer     not null check (latest_version >= 1),
    created_at     timestamptz not null default now(),
    constraint artifact_head_pk primary key (workflow_id, name)
);

-- Every version ever written; rows are never updated. Content is jsonb for every kind: JSON artifacts
-- are objects/arrays, text and markdown are JSON strings. One column keeps one read/write path, lets
-- PostgreSQL validate JSON on the way in, and leaves JSON-path and full-text search (content #>> '{}')
-- open without a second storage layout.
create table artifact_version (
    workflow_id     uuid        not null,
    name            text        not null,
    version         integer     not null check (version >= 1),
    kind            text        not null check (kind in ('json', 'markdown', 'text')),
    media_type      text        not null,
    content         jsonb       not null,
    producer        jsonb,
    size_bytes      integer     not null check (size_bytes >= 0),
    sha256          char(64)    not null,
    -- The retried write's key and a hash of its canonical request: a replay returns this row, a
    -- different request under the same key is refused.
    idempotency_key text        not null,
    request_sha256  char(64)    not null,
    created_at      timestamptz not null default now(),
    constraint artifact_version_pk primary key (workflow_id, name, version),
    constraint artifact_version_idempotency_key unique (workflow_id, idempotency_key),
    constraint artifact_version_head_fk foreign key (workflow_id, name)
        references artifact_head (workflow_id, name)
);
