-- V3's artifact_search_text was a SQL function with a sub-select, which PostgreSQL cannot inline:
-- every INSERT into artifact_version parsed and planned its body again to compute the generated
-- search_document (a SQL function's plan lives only as long as the statement that calls it). The
-- same function in PL/pgSQL returns the same text (so stored documents stay valid; nothing is
-- recomputed) and keeps its one query's plan for the life of the connection; a string artifact
-- (Markdown, text) runs no query at all. Measured with deploy/bench/search-text-bench.sh.
create or replace function artifact_search_text(content jsonb) returns text
    language plpgsql immutable parallel safe
as $$
begin
    if jsonb_typeof(content) = 'string' then
        return left(content #>> '{}', 80000);
    end if;
    return left((select string_agg(s #>> '{}', ' ')
                 from jsonb_path_query(content, 'strict $.** ? (@.type() == "string")') s), 80000);
end
$$;
