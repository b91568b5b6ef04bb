-- Full-text search over artifacts. The document is the name (weight A) plus the text of the content
-- (weight B): a markdown/text artifact's string, or every string value of a JSON artifact (keys and
-- numbers are structure, not prose). Generated and stored, so writes keep it current with no trigger;
-- 'english' is spelled out because only the two-argument forms are immutable.
alter table artifact_version add column search_document tsvector generated always as (
    setweight(to_tsvector('english'::regconfig, name), 'A')
    || setweight(
        case when jsonb_typeof(content) = 'string'
             then to_tsvector('english'::regconfig, content #>> '{}')
             else jsonb_to_tsvector('english'::regconfig, content, '["string"]')
        end, 'B')
) stored;

create index artifact_version_search on artifact_version using gin (search_document);
