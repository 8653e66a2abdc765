-- 009: pp_renormalize_emails rewrites emails stored before Unicode
-- normalisation into the module's normal form (trim Unicode white space,
-- full lowercase, NFC), and never merges two traders. It is the migration's
-- own pg_temp function: every test runs the migration again to have it.
\i sql/migrations/009_email_normal_form.sql

-- test: legacy rows get the normal form the module computes, ASCII rows stay
DO $$
DECLARE
    r record;
    legacy text[] := ARRAY[
        'Über.x@example.com',
        U&'\00A0trader.nbsp@example.com\00A0',
        U&'\3000trader.cjk@example.com\2003',
        U&'u\0308ber.nfd@example.com',
        'İ@x.tr',
        'ΟΔΟΣ@x.gr',
        'straẞe@x.de',
        'josÉ@example.com'];
    normal text[] := ARRAY[
        'über.x@example.com',
        'trader.nbsp@example.com',
        'trader.cjk@example.com',
        'über.nfd@example.com',
        U&'i\0307@x.tr',
        'οδος@x.gr',
        'straße@x.de',
        'josé@example.com'];
    ids bigint[] := '{}';
    ascii bigint;
    i integer;
BEGIN
    FOR i IN 1 .. array_length(legacy, 1) LOOP
        ids := ids || pp_test_user('nf-a', 'legacy-' || i, legacy[i]);
    END LOOP;
    ascii := pp_test_user('nf-a', 'ascii', 'plain.ascii@example.com');

    SELECT * INTO STRICT r FROM pg_temp.pp_renormalize_emails();
    PERFORM pp_test_eq(r.renormalized, array_length(legacy, 1), 'rows rewritten');
    PERFORM pp_test_eq(r.kept, 0, 'rows kept');
    FOR i IN 1 .. array_length(legacy, 1) LOOP
        PERFORM pp_test_eq((SELECT email FROM users WHERE id = ids[i]), normal[i], legacy[i]);
    END LOOP;
    PERFORM pp_test_eq((SELECT email FROM users WHERE id = ascii), 'plain.ascii@example.com',
                       'ASCII row');

    -- idempotent
    SELECT * INTO STRICT r FROM pg_temp.pp_renormalize_emails();
    PERFORM pp_test_eq(r.renormalized, 0, 'second run rewrites nothing');
    PERFORM pp_test_eq(r.kept, 0, 'second run keeps nothing back');
END
$$;

-- test: a registration stored in the legacy form replays with the normal form (200, not 409)
DO $$
DECLARE
    r record;
BEGIN
    SELECT * INTO STRICT r FROM pp_register_user('nf-a', 'ext-legacy', 'Über.replay@example.com', '{}');
    PERFORM pp_test_eq(r.status, 201, 'legacy registration');
    SELECT * INTO STRICT r FROM pp_register_user('nf-a', 'ext-legacy', 'über.replay@example.com', '{}');
    PERFORM pp_test_eq(r.status, 409, 'before: the normal form conflicts');

    PERFORM pg_temp.pp_renormalize_emails();
    SELECT * INTO STRICT r FROM pp_register_user('nf-a', 'ext-legacy', 'über.replay@example.com', '{}');
    PERFORM pp_test_eq(r.status, 200, 'after: a replay');
    PERFORM pp_test_eq(r.body::jsonb->>'email', 'über.replay@example.com', 'replayed email');
END
$$;

-- test: rows whose normal form is taken, or shared with another legacy row, are kept
DO $$
DECLARE
    r record;
    taken bigint;
    twin1 bigint;
    twin2 bigint;
BEGIN
    PERFORM pp_test_user('nf-a', 'normal', 'über.taken@example.com');
    taken := pp_test_user('nf-a', 'taken', 'Über.taken@example.com');
    twin1 := pp_test_user('nf-a', 'twin1', 'Über.twin@example.com');
    twin2 := pp_test_user('nf-a', 'twin2', U&'u\0308ber.twin@example.com');

    SELECT * INTO STRICT r FROM pg_temp.pp_renormalize_emails();
    PERFORM pp_test_eq(r.renormalized, 0, 'nothing rewritten');
    PERFORM pp_test_eq(r.kept, 3, 'three kept');
    PERFORM pp_test_eq((SELECT email FROM users WHERE id = taken), 'Über.taken@example.com', 'taken');
    PERFORM pp_test_eq((SELECT email FROM users WHERE id = twin1), 'Über.twin@example.com', 'twin 1');
    PERFORM pp_test_eq((SELECT email FROM users WHERE id = twin2), U&'u\0308ber.twin@example.com',
                       'twin 2');
    PERFORM pp_test_eq((SELECT count(*) FROM users WHERE email LIKE '%.t%@example.com'), 4::bigint,
                       'no row merged or lost');
END
$$;
