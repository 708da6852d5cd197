-- The search index gains a prefix index of 3 characters: the last word a user types is
-- searched as a prefix (at least 3 characters, the API refuses shorter), and without
-- this index FTS5 answers a prefix by scanning every term that starts with it.
-- FTS5 takes `prefix` only at creation, so the index is built again.

DROP TABLE conversations_fts;

CREATE VIRTUAL TABLE conversations_fts USING fts5 (
    body,
    content = '',
    contentless_delete = 1,
    prefix = '3',
    tokenize = 'unicode61 remove_diacritics 2'
);

-- What the server indexes (`transcript::searchable_text`): the title, and of every message
-- but the system prompt its content and its tool calls' names, results and errors. Only
-- the words matter to the index, so their order here is free.
INSERT INTO conversations_fts (rowid, body)
SELECT c.rowid,
       COALESCE(c.title, '') || char(10) || COALESCE((
           SELECT group_concat(part, char(10)) FROM (
               SELECT m.value ->> '$.content' AS part
               FROM json_each(c.messages) m
               WHERE m.value ->> '$.role' <> 'system'
               UNION ALL
               SELECT concat_ws(char(10),
                                t.value ->> '$.name',
                                CASE json_type(t.value, '$.result')
                                    WHEN 'text' THEN t.value ->> '$.result'
                                    ELSE t.value -> '$.result'
                                END,
                                t.value ->> '$.error')
               FROM json_each(c.messages) m, json_each(m.value, '$.toolCalls') t
               WHERE m.value ->> '$.role' <> 'system'
           )
       ), '')
FROM conversations c;
