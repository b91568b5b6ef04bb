-- Latency and time-to-first-token percentiles from the daily rollup, so the usage report a
-- dashboard asks for first (30 days by model, with p50/p95/p99) no longer scans millions of raw rows.
--
-- Each daily row keeps two sparse histograms with logarithmic buckets (as in DDSketch): bucket 0
-- holds 0 ms, bucket i >= 1 holds (g^(i-2), g^(i-1)] ms with g = 2^(1/8), so a percentile read
-- from it is within 4.3 % (relative) of a call's real value. An element packs a bucket and its count as
-- (bucket << 32) | count, sorted by bucket. tracking-service (LatencySketch) computes a batch's
-- histograms and adds them here with ledger_hist_add in the same upsert as the sums.
--
-- Rows written before this migration have no histogram (null). ledger_hist_add is strict, so such
-- a row stays null when calls are added to it: a null means "some calls of this row are not in a
-- histogram", and reports over it compute percentiles from the raw rows instead. The hourly
-- rollup gets none: it is keyed by workflow (millions of rows of a few calls each), and an
-- hour-bounded range of raw rows is small.
alter table llm_usage_daily add column latency_hist int8[], add column ttft_hist int8[];

create function ledger_hist_add(a int8[], b int8[]) returns int8[]
    language sql immutable strict parallel safe
as $$
    select coalesce(array_agg((k << 32) | n order by k), '{}')
    from (select x >> 32 as k, sum(x & 4294967295)::int8 as n from unnest(a || b) as x group by 1) s
$$;
