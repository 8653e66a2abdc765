-- The error catalogue in the database (sql/functions/05_error_catalogue.sql,
-- generated from libpolypartner/pp_error_codes.def): the engine's errors take
-- their HTTP status from the same table as the module's C code.

-- test: pp_error_status gives the catalogue's status for codes of every status class
DO $$
BEGIN
    PERFORM pp_test_eq(pp_error_status('INVALID_EMAIL'), 400, 'INVALID_EMAIL');
    PERFORM pp_test_eq(pp_error_status('INSUFFICIENT_FUNDS'), 400, 'INSUFFICIENT_FUNDS');
    PERFORM pp_test_eq(pp_error_status('MISSING_API_KEY'), 401, 'MISSING_API_KEY');
    PERFORM pp_test_eq(pp_error_status('CSRF_REJECTED'), 403, 'CSRF_REJECTED');
    PERFORM pp_test_eq(pp_error_status('ACCOUNT_NOT_FOUND'), 404, 'ACCOUNT_NOT_FOUND');
    PERFORM pp_test_eq(pp_error_status('MARKET_NOT_FOUND'), 404, 'MARKET_NOT_FOUND');
    PERFORM pp_test_eq(pp_error_status('ORDER_NOT_OPEN'), 409, 'ORDER_NOT_OPEN');
    PERFORM pp_test_eq(pp_error_status('STALE_QUOTE'), 409, 'STALE_QUOTE');
    PERFORM pp_test_eq(pp_error_status('LOGIN_LINK_INVALID'), 410, 'LOGIN_LINK_INVALID');
    PERFORM pp_test_eq(pp_error_status('INVALID_ACCOUNT_ID'), 422, 'INVALID_ACCOUNT_ID');
    PERFORM pp_test_eq(pp_error_status('RATE_LIMIT_EXCEEDED'), 429, 'RATE_LIMIT_EXCEEDED');
    PERFORM pp_test_eq(pp_error_status('MAGIC_LINK_FAILED'), 502, 'MAGIC_LINK_FAILED');
    PERFORM pp_test_eq(pp_error_status('SERVICE_UNAVAILABLE'), 503, 'SERVICE_UNAVAILABLE');
END
$$;

-- test: a code not in the catalogue raises, naming it
DO $$
DECLARE
    msg text;
BEGIN
    BEGIN
        PERFORM pp_error_status('ORDER_NOT_OPNE');
    EXCEPTION WHEN OTHERS THEN
        msg := SQLERRM;
    END;
    PERFORM pp_test_eq(msg, 'error code ORDER_NOT_OPNE is not in the catalogue '
                            '(libpolypartner/pp_error_codes.def)', 'unknown code');
    msg := NULL;
    BEGIN
        PERFORM pp_error_status(NULL);
    EXCEPTION WHEN OTHERS THEN
        msg := SQLERRM;
    END;
    PERFORM pp_test_eq(msg, 'error code NULL is not in the catalogue '
                            '(libpolypartner/pp_error_codes.def)', 'no code');
    msg := NULL;
    BEGIN
        PERFORM * FROM pp_error('no_such_code', 'a message');
    EXCEPTION WHEN OTHERS THEN
        msg := SQLERRM;
    END;
    PERFORM pp_test_eq(msg, 'error code no_such_code is not in the catalogue '
                            '(libpolypartner/pp_error_codes.def)', 'pp_error with an unknown code');
END
$$;

-- test: pp_error is one row, the catalogue's status and the envelope byte for byte
DO $$
DECLARE
    r record;
    n integer := 0;
BEGIN
    FOR r IN SELECT * FROM pp_error('ORDER_NOT_OPEN', 'the order is "filled" \ gone') LOOP
        n := n + 1;
        PERFORM pp_test_eq(r.status, 409, 'status');
        PERFORM pp_test_eq(r.body, '{"error":"ORDER_NOT_OPEN","message":"the order is \"filled\" \\ gone"}',
                           'body');
    END LOOP;
    PERFORM pp_test_eq(n, 1, 'rows');
END
$$;

-- test: every code the engine's functions pass to pp_error is in the catalogue
DO $$
DECLARE
    r record;
    n integer := 0;
BEGIN
    FOR r IN SELECT p.oid::regprocedure AS fn, m[1] AS code
             FROM pg_proc p JOIN pg_namespace s ON s.oid = p.pronamespace,
                  regexp_matches(p.prosrc, '\mpp_error\(\s*''([^'']*)''', 'g') AS m
             WHERE s.nspname IN ('api', 'engine') LOOP
        n := n + 1;
        BEGIN
            PERFORM pp_error_status(r.code);
        EXCEPTION WHEN OTHERS THEN
            RAISE EXCEPTION '%: %', r.fn, SQLERRM;
        END;
    END LOOP;
    -- the engine returns some 30 errors this way; none found means the pattern is wrong
    IF n < 20 THEN
        RAISE EXCEPTION 'only % pp_error calls found in the engine''s functions', n;
    END IF;
END
$$;
