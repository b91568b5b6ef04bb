-- The relay publishes each message as it was stored, byte for byte: the encoded event goes into body,
-- with the AMQP timestamp beside it (the other properties are columns already). payload (jsonb, parsed
-- on every insert and printed again on every relay read, although nothing queries inside it) is no
-- longer written; rows written before this migration keep it and are published from it.
alter table outbox add column body bytea;
alter table outbox add column occurred_at timestamptz;
alter table outbox alter column payload drop not null;
alter table outbox add constraint outbox_body_or_payload check (body is not null or payload is not null);
