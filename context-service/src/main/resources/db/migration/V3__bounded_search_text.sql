-- V2's search document covered the whole content, and a tsvector holds at most 1 MB of lexemes and
-- positions (SQLSTATE 54000 "string is too long for tsvector"): content well under the 1 MiB content
-- limit (16k UUIDs, ~560 KB of distinct words) could not be stored at all. The document now covers
-- the first 80,000 characters of the text. Bound: each character is in at most two indexed tokens
-- (a hyphenated word and its part, a URL and its host or path), a lowercased character is at most
-- 4 bytes, and each token adds at most 5 bytes (alignment, position count, one position), at most
-- 3 tokens per 4 characters ("x-y "): under 12 bytes a character, 960,000 bytes in all, plus the
-- name's few. The worst texts measured (4-byte letters in hyphenated pairs) come to ~7.5.
--
-- The same function gives ts_headline its text, so snippets come from the indexed part, and their
-- cost is bounded too. For JSON content it joins the string values in document order (keys and
-- numbers are structure, not prose).
create function artifact_search_text(content jsonb) returns text
    language sql immutable parallel safe
as $$
    select left(case when jsonb_typeof(content) = 'string' then content #>> '{}'
                     else (select string_agg(s #>> '{}', ' ')
                           from jsonb_path_query(content, 'strict $.** ? (@.type() == "string")') s)
                end, 80000)
$$;

-- A stored generated column's expression cannot be altered: drop it (its GIN index goes with it) and
-- add it again. Adding it rewrites artifact_version under an ACCESS EXCLUSIVE lock, computing every
-- row's document, then the index is built: reads and writes of artifacts wait until the migration
-- commits (service-kit migrates at start-up, before the service takes traffic).
alter table artifact_version drop column search_document;
alter table artifact_version add column search_document tsvector generated always as (
    setweight(to_tsvector('english'::regconfig, name), 'A')
    || setweight(to_tsvector('english'::regconfig, coalesce(artifact_search_text(content), '')), 'B')
) stored;

create index artifact_version_search on artifact_version using gin (search_document);
