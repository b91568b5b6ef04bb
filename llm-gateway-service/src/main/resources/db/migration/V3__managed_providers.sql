-- OpenAI-compatible providers added through /admin/providers. The API key is stored only encrypted
-- (AES-256-GCM: 12-byte random nonce || ciphertext || 16-byte tag; the provider name is the
-- associated data, so a ciphertext copied to another row does not decrypt). The encryption key
-- lives in the environment (GATEWAY_ENCRYPTION_KEY), never in the database.
create table managed_provider (
    name              text primary key,
    base_url          text        not null,
    api_key_encrypted bytea,
    status            text        not null check (status in ('pending', 'ok', 'failed')),
    status_reason     text,
    checked_at        timestamptz,
    -- Bumped on every change: a validation result is stored only if it checked the current version,
    -- and replicas rebuild their client when it changes.
    revision          bigint      not null default 1,
    created_at        timestamptz not null default now(),
    updated_at        timestamptz not null default now()
);
