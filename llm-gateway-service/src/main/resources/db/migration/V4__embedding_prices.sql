-- OpenAI embedding list prices, USD per 1M input tokens (embeddings have no output or cache price).
insert into price (provider, model, input_per_mtok, cached_input_per_mtok, output_per_mtok, effective_from, version) values
    ('openai', 'text-embedding-3-small', 0.02, 0.02, 0, '2024-01-25T00:00:00Z', 'openai-2024-01'),
    ('openai', 'text-embedding-3-large', 0.13, 0.13, 0, '2024-01-25T00:00:00Z', 'openai-2024-01'),
    ('openai', 'text-embedding-ada-002', 0.10, 0.10, 0, '2022-12-15T00:00:00Z', 'openai-2022-12')
on conflict (provider, model, effective_from) do nothing;
