-- Stored emails in the module's normal form (issue 10, item 8): the module
-- now trims Unicode white space, lowercases by full Unicode case mapping and
-- composes to NFC. Rows it stored before (only ASCII was trimmed and
-- lowercased, e.g. 'Über.x@example.com') would no longer match a replay of
-- the same registration (409 EXTERNAL_ID_CONFLICT), so they are rewritten.
-- ASCII-only rows are already in normal form.
--
-- ICU's root-locale lowercase is the same full mapping as the module's
-- (libunistring, no language tailoring). A row whose normal form already
-- belongs to another trader (or to another row being rewritten) is left as
-- it is, with a WARNING: two traders are never merged behind anyone's back
-- (so is the rare row whose normal form would leave the 3-320 characters).
--
-- The rewrite is a pg_temp function, gone when the migration's session ends:
-- it is not a function of the engine (sql/functions), only this migration's
-- data change. Safe to run again (the SQL tests do, through \i).

CREATE FUNCTION pg_temp.pp_renormalize_emails(OUT renormalized integer, OUT kept integer)
LANGUAGE plpgsql AS $$
BEGIN
    renormalized := 0;
    kept := 0;
    IF getdatabaseencoding() <> 'UTF8'
       OR NOT EXISTS (SELECT 1 FROM pg_collation WHERE collname = 'und-x-icu') THEN
        RAISE WARNING 'emails not renormalised: needs a UTF8 database and PostgreSQL with ICU';
        RETURN;
    END IF;
    -- EXECUTE: the ICU collation is resolved only where it exists
    EXECUTE $q$
        WITH normal AS (
            SELECT id, email,
                   -- trim Unicode White_Space at either end
                   normalize(lower(regexp_replace(email,
                       '^[\u0009-\u000d\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|'
                       '[\u0009-\u000d\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$',
                       '', 'g') COLLATE "und-x-icu"), NFC) AS form
            FROM users
            WHERE octet_length(email) <> length(email)
        ), changing AS (
            SELECT * FROM normal WHERE form <> email
        ), free AS (
            SELECT c.id, c.form FROM changing c
            WHERE length(c.form) BETWEEN 3 AND 320
              AND NOT EXISTS (SELECT 1 FROM users u WHERE u.email = c.form)
              AND (SELECT count(*) FROM changing o WHERE o.form = c.form) = 1
        ), done AS (
            UPDATE users u SET email = f.form FROM free f WHERE u.id = f.id RETURNING u.id
        )
        SELECT (SELECT count(*) FROM done)::integer,
               (SELECT count(*) FROM changing)::integer - (SELECT count(*) FROM done)::integer
    $q$ INTO renormalized, kept;
    IF kept > 0 THEN
        RAISE WARNING '% email(s) kept as stored: their normal form belongs to another trader',
            kept;
    END IF;
END
$$;

SELECT * FROM pg_temp.pp_renormalize_emails();
