-- Login links: pp_login_link_create (POST /v1/partner/users/{user_id}/login-link
-- after the module's validation), the mail outcome (pp_login_link_sent,
-- pp_login_link_failed), the confirmation page (pp_login_token_peek) and
-- redemption (pp_login_token_redeem). Secrets are stored only as digests.

-- test: a link for a registered trader is 202 {"status":"accepted"} with the trader's email, stored pending with its digest, tenant, redirect and expiry
DO $$
DECLARE
    r record;
    u bigint := pp_test_user('ll-a', 'll-1', 'll1@example.com');
    t login_tokens;
    n bigint := (SELECT count(*) FROM login_tokens);
BEGIN
    SELECT * INTO STRICT r FROM pp_login_link_create('ll-a', u, pp_test_digest('s-1'),
                                                     'https://demo.example.com/markets', 900, 5, 3600);
    PERFORM pp_test_eq(r.status, 202, 'status');
    PERFORM pp_test_eq(r.body, '{"status":"accepted"}', 'body');
    PERFORM pp_test_eq(r.email, 'll1@example.com', 'email for the mailer');
    PERFORM pp_test_eq(r.retry_after, NULL::integer, 'retry_after');
    PERFORM pp_test_eq((SELECT count(*) FROM login_tokens), n + 1, 'one token row');
    SELECT * INTO STRICT t FROM login_tokens WHERE token_hash = pp_test_digest('s-1');
    PERFORM pp_test_eq(format('%s %s %s %s %s', t.user_id, t.tenant, t.redirect_url, t.state,
                              coalesce(t.used_at::text, '-')),
                       format('%s ll-a https://demo.example.com/markets pending -', u), 'token row');
    PERFORM pp_test_eq(t.created_at, now(), 'created_at');
    PERFORM pp_test_eq(t.expires_at, now() + interval '900 seconds', 'expires_at');
    -- pending: not usable until the mail went out
    PERFORM pp_test_eq((SELECT p.status FROM pp_login_token_peek(pp_test_digest('s-1')) p), 410,
                       'peek while pending');
END
$$;

-- test: unknown users, users of another tenant and unknown tenants are the same 404 USER_NOT_FOUND, and nothing is written
DO $$
DECLARE
    r record;
    u bigint := pp_test_user('ll-a', 'll-2', 'll2@example.com');
    other bigint := pp_test_user('ll-b', 'll-2b', 'll2b@example.com');
    before jsonb := pp_test_snapshot();
    c record;
BEGIN
    FOR c IN SELECT * FROM (VALUES ('ll-a', other, 'user of another tenant'),
                                   ('ll-a', (SELECT max(id) + 1000 FROM users), 'unknown user'),
                                   ('no-such-tenant', u, 'unknown tenant'),
                                   ('ll-b', u, 'user registered only by ll-a')) AS v(tenant, uid, what)
    LOOP
        SELECT * INTO STRICT r FROM pp_login_link_create(c.tenant, c.uid, pp_test_digest('s-2'),
                                                         'https://demo.example.com/', 900, 5, 3600);
        PERFORM pp_test_error(r.status, r.body, 404, 'USER_NOT_FOUND', c.what);
        PERFORM pp_test_eq(r.body, '{"error":"USER_NOT_FOUND","message":"user not found"}', c.what || ': body');
        PERFORM pp_test_eq(r.email, NULL::text, c.what || ': no email');
        PERFORM pp_test_eq(r.retry_after, NULL::integer, c.what || ': retry_after');
    END LOOP;
    PERFORM pp_test_assert_unchanged(before, 'refused link requests');
END
$$;

-- test: throttle: the link over the limit is 429 RATE_LIMIT_EXCEEDED with retry_after until the oldest link in the window leaves it, and writes nothing
DO $$
DECLARE
    r record;
    u bigint := pp_test_user('ll-a', 'll-3', 'll3@example.com');
    i integer;
    before jsonb;
BEGIN
    FOR i IN 1..3 LOOP
        SELECT * INTO STRICT r FROM pp_login_link_create('ll-a', u, pp_test_digest('s-3-' || i),
                                                         'https://demo.example.com/', 900, 3, 600);
        PERFORM pp_test_eq(r.status, 202, format('link %s of 3', i));
    END LOOP;
    -- the oldest was created 100 s ago: it leaves the 600 s window in 500 s
    UPDATE login_tokens SET created_at = now() - interval '100 seconds',
                            expires_at = now() + interval '800 seconds'
    WHERE token_hash = pp_test_digest('s-3-1');
    UPDATE login_tokens SET created_at = now() - interval '50 seconds'
    WHERE token_hash = pp_test_digest('s-3-2');
    before := pp_test_snapshot();
    SELECT * INTO STRICT r FROM pp_login_link_create('ll-a', u, pp_test_digest('s-3-4'),
                                                     'https://demo.example.com/', 900, 3, 600);
    PERFORM pp_test_error(r.status, r.body, 429, 'RATE_LIMIT_EXCEEDED', '4th link');
    PERFORM pp_test_eq(r.retry_after, 500, 'retry_after');
    PERFORM pp_test_eq(r.body::jsonb->>'message',
                       'too many login links requested for this user; retry in 500 seconds', 'message');
    PERFORM pp_test_eq(r.email, NULL::text, 'no email');
    PERFORM pp_test_assert_unchanged(before, 'throttled request');
    -- a fraction of a second rounds up
    UPDATE login_tokens SET created_at = now() - interval '100.25 seconds'
    WHERE token_hash = pp_test_digest('s-3-1');
    PERFORM pp_test_eq((SELECT x.retry_after FROM pp_login_link_create('ll-a', u, pp_test_digest('s-3-4'),
                            'https://demo.example.com/', 900, 3, 600) x), 500, 'retry_after rounded up');
    -- about to leave: still at least 1
    UPDATE login_tokens SET created_at = now() - interval '599.999 seconds'
    WHERE token_hash = pp_test_digest('s-3-1');
    PERFORM pp_test_eq((SELECT x.retry_after FROM pp_login_link_create('ll-a', u, pp_test_digest('s-3-4'),
                            'https://demo.example.com/', 900, 3, 600) x), 1, 'retry_after at least 1');
    -- once it has left the window, the next link is accepted
    UPDATE login_tokens SET created_at = now() - interval '600 seconds'
    WHERE token_hash = pp_test_digest('s-3-1');
    PERFORM pp_test_eq((SELECT x.status FROM pp_login_link_create('ll-a', u, pp_test_digest('s-3-4'),
                            'https://demo.example.com/', 900, 3, 600) x), 202, 'after the window');
    -- and now the window is full again
    PERFORM pp_test_eq((SELECT x.status FROM pp_login_link_create('ll-a', u, pp_test_digest('s-3-5'),
                            'https://demo.example.com/', 900, 3, 600) x), 429, 'full again');
END
$$;

-- test: throttle: more links in the window than a lowered limit: retry_after is until enough have left
DO $$
DECLARE
    r record;
    u bigint := pp_test_user('ll-a', 'll-4', 'll4@example.com');
    i integer;
BEGIN
    FOR i IN 1..3 LOOP
        PERFORM pp_test_link('ll-a', u, 's-4-' || i);
        UPDATE login_tokens SET created_at = now() - make_interval(secs => 600 - 100 * i)
        WHERE token_hash = pp_test_digest('s-4-' || i);       -- 500, 400, 300 s ago
    END LOOP;
    SELECT * INTO STRICT r FROM pp_login_link_create('ll-a', u, pp_test_digest('s-4-x'),
                                                     'https://demo.example.com/', 900, 2, 600);
    -- two must leave to get below 2: the second oldest (400 s ago) leaves in 200 s
    PERFORM pp_test_eq(format('%s %s', r.status, r.retry_after), '429 200', 'status and retry_after');
    SELECT * INTO STRICT r FROM pp_login_link_create('ll-a', u, pp_test_digest('s-4-x'),
                                                     'https://demo.example.com/', 900, 3, 600);
    PERFORM pp_test_eq(format('%s %s', r.status, r.retry_after), '429 100', 'limit 3');
    SELECT * INTO STRICT r FROM pp_login_link_create('ll-a', u, pp_test_digest('s-4-x'),
                                                     'https://demo.example.com/', 900, 4, 600);
    PERFORM pp_test_eq(r.status, 202, 'limit 4');
END
$$;

-- test: throttle counts pending, sent and used links of this trader and tenant in the window; not failed links, older links, other traders or other tenants
DO $$
DECLARE
    u bigint := pp_test_user('ll-a', 'll-5', 'll5@example.com');
    other bigint := pp_test_user('ll-a', 'll-5o', 'll5o@example.com');
    st record;
BEGIN
    PERFORM pp_test_eq(pp_test_user('ll-b', 'll-5b', 'll5@example.com'), u, 'same trader in ll-b');
    PERFORM pp_test_link('ll-a', u, 's-5-failed-1', 'failed');
    PERFORM pp_test_link('ll-a', u, 's-5-failed-2', 'failed');
    PERFORM pp_test_link('ll-a', u, 's-5-old', 'sent');
    UPDATE login_tokens SET created_at = now() - interval '601 seconds'
    WHERE token_hash = pp_test_digest('s-5-old');
    PERFORM pp_test_link('ll-a', other, 's-5-other-1', 'sent');
    PERFORM pp_test_link('ll-a', other, 's-5-other-2', 'sent');
    PERFORM pp_test_link('ll-b', u, 's-5-b-1', 'sent');
    PERFORM pp_test_link('ll-b', u, 's-5-b-2', 'sent');
    -- none of those counts: two links are allowed
    PERFORM pp_test_eq((SELECT x.status FROM pp_login_link_create('ll-a', u, pp_test_digest('s-5-1'),
                            'https://demo.example.com/', 900, 2, 600) x), 202, 'first counted link');
    PERFORM pp_test_eq((SELECT x.status FROM pp_login_link_create('ll-a', u, pp_test_digest('s-5-2'),
                            'https://demo.example.com/', 900, 2, 600) x), 202, 'second counted link');
    -- pending, sent and used all count
    FOR st IN SELECT * FROM (VALUES ('pending'), ('sent'), ('used')) AS v(state) LOOP
        UPDATE login_tokens SET state = st.state,
                                used_at = CASE WHEN st.state = 'used' THEN now() END
        WHERE token_hash IN (pp_test_digest('s-5-1'), pp_test_digest('s-5-2'));
        PERFORM pp_test_eq((SELECT x.status FROM pp_login_link_create('ll-a', u, pp_test_digest('s-5-3'),
                                'https://demo.example.com/', 900, 2, 600) x), 429, st.state || ' links count');
    END LOOP;
    -- the other tenant's own count is separate
    PERFORM pp_test_eq((SELECT x.status FROM pp_login_link_create('ll-b', u, pp_test_digest('s-5-b-3'),
                            'https://demo.example.com/', 900, 3, 600) x), 202, 'll-b: third link');
    PERFORM pp_test_eq((SELECT x.status FROM pp_login_link_create('ll-b', u, pp_test_digest('s-5-b-4'),
                            'https://demo.example.com/', 900, 3, 600) x), 429, 'll-b: fourth link');
END
$$;

-- test: throttle off with p_max_links 0
DO $$
DECLARE
    u bigint := pp_test_user('ll-a', 'll-6', 'll6@example.com');
    i integer;
BEGIN
    FOR i IN 1..5 LOOP
        PERFORM pp_test_eq((SELECT x.status FROM pp_login_link_create('ll-a', u, pp_test_digest('s-6-' || i),
                                'https://demo.example.com/', 900, 0, 600) x), 202, 'link ' || i);
    END LOOP;
END
$$;

-- test: the mail outcome: only a pending link becomes sent or failed, once; a failed link is never usable
DO $$
DECLARE
    u bigint := pp_test_user('ll-a', 'll-7', 'll7@example.com');
BEGIN
    PERFORM pp_test_link('ll-a', u, 's-7-a', 'pending');
    PERFORM pp_test_link('ll-a', u, 's-7-b', 'pending');
    PERFORM pp_test_eq(pp_login_link_sent(pp_test_digest('s-7-a')), true, 'pending -> sent');
    PERFORM pp_test_eq(pp_login_link_sent(pp_test_digest('s-7-a')), false, 'sent again');
    PERFORM pp_test_eq(pp_login_link_failed(pp_test_digest('s-7-a')), false, 'sent -> failed');
    PERFORM pp_test_eq((SELECT state FROM login_tokens WHERE token_hash = pp_test_digest('s-7-a')),
                       'sent', 'a sent link stays sent');
    PERFORM pp_test_eq(pp_login_link_failed(pp_test_digest('s-7-b')), true, 'pending -> failed');
    PERFORM pp_test_eq(pp_login_link_failed(pp_test_digest('s-7-b')), false, 'failed again');
    PERFORM pp_test_eq(pp_login_link_sent(pp_test_digest('s-7-b')), false, 'failed -> sent');
    PERFORM pp_test_eq((SELECT state FROM login_tokens WHERE token_hash = pp_test_digest('s-7-b')),
                       'failed', 'a failed link stays failed');
    PERFORM pp_test_eq(pp_login_link_sent(pp_test_digest('no-such-link')), false, 'unknown: sent');
    PERFORM pp_test_eq(pp_login_link_failed(pp_test_digest('no-such-link')), false, 'unknown: failed');
    -- used links do not go back
    PERFORM pp_test_eq((SELECT x.status FROM pp_login_token_redeem(pp_test_digest('s-7-a'),
                            pp_test_digest('s-7-a-session'), 3600) x), 200, 'redeem');
    PERFORM pp_test_eq(pp_login_link_sent(pp_test_digest('s-7-a')), false, 'used -> sent');
    PERFORM pp_test_eq(pp_login_link_failed(pp_test_digest('s-7-a')), false, 'used -> failed');
    PERFORM pp_test_eq((SELECT state FROM login_tokens WHERE token_hash = pp_test_digest('s-7-a')),
                       'used', 'a used link stays used');
    -- the failed one cannot be redeemed
    PERFORM pp_test_eq((SELECT x.status FROM pp_login_token_redeem(pp_test_digest('s-7-b'),
                            pp_test_digest('s-7-b-session'), 3600) x), 410, 'redeem a failed link');
END
$$;

-- test: peek of a usable link is 200 with the email and expiry and consumes nothing; peeking twice is the same
DO $$
DECLARE
    r record;
    u bigint := pp_test_user('ll-a', 'll-8', 'll8@example.com');
    t login_tokens := pp_test_link('ll-a', u, 's-8');
    before jsonb := pp_test_snapshot();
    i integer;
BEGIN
    FOR i IN 1..2 LOOP
        SELECT * INTO STRICT r FROM pp_login_token_peek(pp_test_digest('s-8'));
        PERFORM pp_test_eq(r.status, 200, 'status');
        PERFORM pp_test_eq(r.body, format('{"email":"ll8@example.com","expires_at":"%s"}',
                                          pp_test_time(t.expires_at)), 'body');
    END LOOP;
    PERFORM pp_test_assert_unchanged(before, 'peek');
    PERFORM pp_test_eq((SELECT x.status FROM pp_login_token_redeem(pp_test_digest('s-8'),
                            pp_test_digest('s-8-session'), 3600) x), 200, 'still redeemable after peeks');
END
$$;

-- test: peek and redeem of unusable links are 410 LOGIN_LINK_INVALID: expired, already used, or one message for unknown, pending and failed; redeem then writes nothing
DO $$
DECLARE
    r record;
    u bigint := pp_test_user('ll-a', 'll-9', 'll9@example.com');
    c record;
    before jsonb;
BEGIN
    PERFORM pp_test_link('ll-a', u, 's-9-expired');
    UPDATE login_tokens SET created_at = now() - interval '901 seconds',
                            expires_at = now() - interval '1 second'
    WHERE token_hash = pp_test_digest('s-9-expired');
    PERFORM pp_test_link('ll-a', u, 's-9-now');               -- expires exactly now: expired
    UPDATE login_tokens SET created_at = now() - interval '900 seconds', expires_at = now()
    WHERE token_hash = pp_test_digest('s-9-now');
    PERFORM pp_test_session('ll-a', u, 's-9-used');
    PERFORM pp_test_link('ll-a', u, 's-9-pending', 'pending');
    PERFORM pp_test_link('ll-a', u, 's-9-failed', 'failed');
    before := pp_test_snapshot();
    FOR c IN SELECT * FROM (VALUES
        ('s-9-expired', 'this sign-in link has expired'),
        ('s-9-now', 'this sign-in link has expired'),
        ('s-9-used', 'this sign-in link has already been used'),
        ('s-9-unknown', 'this sign-in link is not valid'),
        ('s-9-pending', 'this sign-in link is not valid'),
        ('s-9-failed', 'this sign-in link is not valid')) AS v(secret, message)
    LOOP
        SELECT * INTO STRICT r FROM pp_login_token_peek(pp_test_digest(c.secret));
        PERFORM pp_test_error(r.status, r.body, 410, 'LOGIN_LINK_INVALID', c.secret || ': peek');
        PERFORM pp_test_eq(r.body::jsonb->>'message', c.message, c.secret || ': peek message');
        SELECT * INTO STRICT r FROM pp_login_token_redeem(pp_test_digest(c.secret),
                                                          pp_test_digest(c.secret || '-session'), 3600);
        PERFORM pp_test_error(r.status, r.body, 410, 'LOGIN_LINK_INVALID', c.secret || ': redeem');
        PERFORM pp_test_eq(r.body::jsonb->>'message', c.message, c.secret || ': redeem message');
    END LOOP;
    PERFORM pp_test_assert_unchanged(before, 'refused redemptions');
    -- a used link that has also expired is reported as used
    UPDATE login_tokens SET created_at = now() - interval '901 seconds',
                            expires_at = now() - interval '1 second'
    WHERE token_hash = pp_test_digest('s-9-used');
    PERFORM pp_test_eq((SELECT x.body::jsonb->>'message' FROM pp_login_token_peek(pp_test_digest('s-9-used')) x),
                       'this sign-in link has already been used', 'used and expired');
END
$$;

-- test: redeem consumes the link and opens a session: 200 with user_id, redirect_url and the session expiry
DO $$
DECLARE
    r record;
    u bigint := pp_test_user('ll-a', 'll-10', 'll10@example.com');
    t login_tokens := pp_test_link('ll-a', u, 's-10', 'sent', 'https://demo.example.com/app?x="1"');
    s sessions;
    n_sessions bigint := (SELECT count(*) FROM sessions);
BEGIN
    SELECT * INTO STRICT r FROM pp_login_token_redeem(pp_test_digest('s-10'),
                                                      pp_test_digest('s-10-session'), 7200);
    PERFORM pp_test_eq(r.status, 200, 'status');
    PERFORM pp_test_eq(r.body, format('{"user_id":%s,"redirect_url":"https://demo.example.com/app?x=\"1\"",'
                                      '"expires_at":"%s"}', u, pp_test_time(now() + interval '7200 seconds')),
                       'body');
    PERFORM pp_test_eq(pp_test_keys(r.body), ARRAY['user_id', 'redirect_url', 'expires_at'], 'keys');
    SELECT * INTO STRICT t FROM login_tokens WHERE id = t.id;
    PERFORM pp_test_eq(format('%s %s', t.state, t.used_at = now()), 'used t', 'token used now');
    PERFORM pp_test_eq((SELECT count(*) FROM sessions), n_sessions + 1, 'one session');
    SELECT * INTO STRICT s FROM sessions WHERE session_hash = pp_test_digest('s-10-session');
    PERFORM pp_test_eq(format('%s %s %s %s', s.user_id, s.tenant, s.login_token_id,
                              coalesce(s.ended_at::text, '-')),
                       format('%s ll-a %s -', u, t.id), 'session row');
    PERFORM pp_test_eq(s.created_at, now(), 'session created_at');
    PERFORM pp_test_eq(s.expires_at, now() + interval '7200 seconds', 'session expires_at');
    PERFORM pp_test_eq(pp_session_user(pp_test_digest('s-10-session')), u, 'live session');
END
$$;

-- test: a link is redeemed once: the second redemption is 410 already used, opens no session and changes nothing
DO $$
DECLARE
    r record;
    u bigint := pp_test_user('ll-a', 'll-11', 'll11@example.com');
    before jsonb;
BEGIN
    PERFORM pp_test_session('ll-a', u, 's-11');
    before := pp_test_snapshot();
    SELECT * INTO STRICT r FROM pp_login_token_redeem(pp_test_digest('s-11'),
                                                      pp_test_digest('s-11-second'), 3600);
    PERFORM pp_test_error(r.status, r.body, 410, 'LOGIN_LINK_INVALID', 'second redemption');
    PERFORM pp_test_eq(r.body::jsonb->>'message', 'this sign-in link has already been used', 'message');
    PERFORM pp_test_assert_unchanged(before, 'second redemption');
    PERFORM pp_test_eq(pp_session_user(pp_test_digest('s-11-second')), NULL::bigint, 'no second session');
END
$$;

-- test: a redemption that cannot open its session (session digest taken) leaves the link unused
DO $$
DECLARE
    u bigint := pp_test_user('ll-a', 'll-12', 'll12@example.com');
    s bytea := pp_test_session('ll-a', u, 's-12-first');
    failed boolean := false;
BEGIN
    PERFORM pp_test_link('ll-a', u, 's-12');
    BEGIN
        PERFORM pp_login_token_redeem(pp_test_digest('s-12'), s, 3600);
    EXCEPTION WHEN unique_violation THEN
        failed := true;
    END;
    ASSERT failed, 'a duplicate session digest was accepted';
    PERFORM pp_test_eq((SELECT format('%s %s', state, coalesce(used_at::text, '-')) FROM login_tokens
                        WHERE token_hash = pp_test_digest('s-12')), 'sent -', 'link still unused');
END
$$;

-- test: only digests are stored: the tables have exactly the documented columns, hold the digest the module passed, and refuse anything but 32-byte digests
DO $$
DECLARE
    u bigint := pp_test_user('ll-a', 'll-13', 'll13@example.com');
    c record;
    refused boolean;
BEGIN
    PERFORM pp_test_eq((SELECT array_agg(format('%s %s', column_name, data_type) ORDER BY ordinal_position)
                        FROM information_schema.columns WHERE table_name = 'login_tokens'),
        ARRAY['id bigint', 'token_hash bytea', 'user_id bigint', 'tenant text', 'redirect_url text',
              'state text', 'created_at timestamp with time zone',
              'expires_at timestamp with time zone', 'used_at timestamp with time zone'],
        'login_tokens columns');
    PERFORM pp_test_eq((SELECT array_agg(format('%s %s', column_name, data_type) ORDER BY ordinal_position)
                        FROM information_schema.columns WHERE table_name = 'sessions'),
        ARRAY['id bigint', 'session_hash bytea', 'user_id bigint', 'tenant text', 'login_token_id bigint',
              'created_at timestamp with time zone', 'expires_at timestamp with time zone',
              'ended_at timestamp with time zone'],
        'sessions columns');
    PERFORM pp_test_session('ll-a', u, 's-13');
    PERFORM pp_test_eq((SELECT encode(token_hash, 'hex') FROM login_tokens WHERE user_id = u),
                       encode(sha256('s-13'::bytea), 'hex'), 'stored token digest');
    PERFORM pp_test_eq((SELECT encode(session_hash, 'hex') FROM sessions WHERE user_id = u),
                       encode(sha256('s-13-session'::bytea), 'hex'), 'stored session digest');
    PERFORM pp_test_link('ll-a', u, 's-13-b');
    FOR c IN SELECT * FROM (VALUES ('link 31 bytes', 'link', 31), ('link 33 bytes', 'link', 33),
                                   ('link empty', 'link', 0),
                                   ('session 31 bytes', 'session', 31), ('session 64 bytes', 'session', 64))
                          AS v(what, kind, len)
    LOOP
        refused := false;
        BEGIN
            IF c.kind = 'link' THEN
                PERFORM pp_login_link_create('ll-a', u, substr(sha512('x'::bytea), 1, c.len),
                                             'https://demo.example.com/', 900, 0, 600);
            ELSE
                PERFORM pp_login_token_redeem(pp_test_digest('s-13-b'),
                                              substr(sha512('x'::bytea), 1, c.len), 3600);
            END IF;
        EXCEPTION WHEN check_violation THEN
            refused := true;
        END;
        ASSERT refused, c.what || ' was stored';
    END LOOP;
END
$$;

-- test: sessions: live until ended or expired; logout ends a session once; unknown digests have no user
DO $$
DECLARE
    u bigint := pp_test_user('ll-a', 'll-14', 'll14@example.com');
    s1 bytea := pp_test_session('ll-a', u, 's-14-1');
    s2 bytea := pp_test_session('ll-a', u, 's-14-2');
    s3 bytea := pp_test_session('ll-a', u, 's-14-3');
BEGIN
    PERFORM pp_test_eq(pp_session_user(s1), u, 's1 live');
    PERFORM pp_test_eq(pp_session_user(pp_test_digest('no-such-session')), NULL::bigint, 'unknown');
    -- logout
    PERFORM pp_test_eq(pp_session_end(s1), true, 'end s1');
    PERFORM pp_test_eq((SELECT ended_at FROM sessions WHERE session_hash = s1), now(), 'ended_at');
    PERFORM pp_test_eq(pp_session_user(s1), NULL::bigint, 's1 after logout');
    PERFORM pp_test_eq(pp_session_end(s1), false, 'end s1 again');
    PERFORM pp_test_eq(pp_session_end(pp_test_digest('no-such-session')), false, 'end unknown');
    PERFORM pp_test_eq(pp_session_user(s2), u, 'other sessions stay live');
    -- expiry
    UPDATE sessions SET created_at = now() - interval '3601 seconds',
                        expires_at = now() - interval '1 second' WHERE session_hash = s2;
    PERFORM pp_test_eq(pp_session_user(s2), NULL::bigint, 'expired');
    UPDATE sessions SET created_at = now() - interval '3600 seconds', expires_at = now()
    WHERE session_hash = s2;
    PERFORM pp_test_eq(pp_session_user(s2), NULL::bigint, 'expires exactly now');
    UPDATE sessions SET expires_at = now() + interval '1 second' WHERE session_hash = s2;
    PERFORM pp_test_eq(pp_session_user(s2), u, 'one second left');
    PERFORM pp_test_eq(pp_session_user(s3), u, 's3 live');
END
$$;
