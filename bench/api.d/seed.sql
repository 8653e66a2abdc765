-- bench/api's seeding: realistic scale through the engine's own functions.
--
-- Creates schema "bench" (what the load generators pick ids from, and the
-- procedures below); bench/api then CALLs the procedures. Every trader,
-- account, position, resting order and fill is made by the api.* functions
-- the module calls (pp_register_user, pp_create_account, pp_place_order),
-- markets and prices by the price feed's (pp_upsert_market,
-- pp_apply_price_updates): nothing is inserted into an engine table here,
-- so the ledger invariant holds as it does in production.
--
-- This file is part of the seed cache key (bench/api): change it and the
-- next run seeds afresh.

CREATE SCHEMA bench;

CREATE TABLE bench.tenants (n integer PRIMARY KEY, name text NOT NULL UNIQUE);
-- the three tenants of bench/api's tenants.conf, in its key order
INSERT INTO bench.tenants VALUES (1, 'demo'), (2, 'other'), (3, 'bench3');

CREATE TABLE bench.tokens (n integer PRIMARY KEY, token_id text NOT NULL UNIQUE);
CREATE TABLE bench.users (
    n integer PRIMARY KEY, tenant text NOT NULL, user_id bigint NOT NULL,
    external_id text NOT NULL, email text NOT NULL);
CREATE TABLE bench.accounts (
    n integer PRIMARY KEY, tenant text NOT NULL, id uuid NOT NULL, user_id bigint NOT NULL,
    external_id text NOT NULL, stage text NOT NULL, starting_balance text NOT NULL);
-- the account with many fills (the trades feed)
CREATE TABLE bench.feed (tenant text NOT NULL, account_id uuid NOT NULL, fills bigint NOT NULL);

CREATE FUNCTION bench.tenant_of(g integer) RETURNS text
LANGUAGE sql STABLE AS $$ SELECT name FROM bench.tenants WHERE n = (g - 1) % 3 + 1 $$;

-- Fails the seeding on an answer it did not expect.
CREATE FUNCTION bench.expect(p_what text, p_status integer, p_body text, p_want integer)
RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
    IF p_status IS DISTINCT FROM p_want THEN
        RAISE EXCEPTION 'seed: % answered % (want %): %', p_what, p_status, p_want, p_body;
    END IF;
    RETURN p_body::jsonb;
END
$$;

-- Markets of two outcome tokens each (Yes/No), as discovery upserts them.
CREATE PROCEDURE bench.seed_markets(p_tokens integer)
LANGUAGE plpgsql AS $$
DECLARE
    m integer;
BEGIN
    FOR m IN 1 .. p_tokens / 2 LOOP
        PERFORM api.pp_upsert_market(
            '0x' || lpad(to_hex(m), 64, '0'), format('Bench market %s?', m),
            'bench-market-' || m, false,
            jsonb_build_array(
                jsonb_build_object('token_id', '7' || lpad((2 * m - 1)::text, 76, '0'),
                                   'outcome', 'Yes', 'tick_size', '0.01'),
                jsonb_build_object('token_id', '7' || lpad((2 * m)::text, 76, '0'),
                                   'outcome', 'No', 'tick_size', '0.01')));
    END LOOP;
    INSERT INTO bench.tokens
    SELECT row_number() OVER (ORDER BY token_id), token_id FROM market_tokens
    WHERE token_id LIKE '7%' AND length(token_id) = 77;
END
$$;

-- The live prices of tokens lo..hi: a one-cent spread around a midpoint in
-- 0.05..0.94, with two levels of depth on each side.
CREATE FUNCTION bench.price_updates(p_lo integer, p_hi integer) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_agg(jsonb_build_object(
        'token_id', t.token_id,
        'best_bid', (mid - 0.01)::text, 'best_ask', (mid + 0.01)::text,
        'last_trade_price', mid::text,
        'bids', jsonb_build_array(jsonb_build_array((mid - 0.01)::text, '5000'),
                                  jsonb_build_array((mid - 0.02)::text, '20000')),
        'asks', jsonb_build_array(jsonb_build_array((mid + 0.01)::text, '5000'),
                                  jsonb_build_array((mid + 0.02)::text, '20000'))))
    FROM bench.tokens t, LATERAL (SELECT round((5 + (t.n * 37) % 90) / 100.0, 2) AS mid) p
    WHERE t.n BETWEEN p_lo AND p_hi
$$;

-- Fresh prices for every token (market orders refuse quotes older than
-- PolyPartnerMaxPriceAge). They never cross the resting orders.
CREATE PROCEDURE bench.refresh_prices()
LANGUAGE plpgsql AS $$
DECLARE
    lo integer := 1;
    hi integer := (SELECT max(n) FROM bench.tokens);
    filled integer;
BEGIN
    WHILE lo <= hi LOOP
        filled := api.pp_apply_price_updates(bench.price_updates(lo, lo + 4999));
        IF filled <> 0 THEN
            RAISE EXCEPTION 'seed: a price refresh filled % resting orders', filled;
        END IF;
        COMMIT;
        lo := lo + 5000;
    END LOOP;
END
$$;

-- Traders lo..hi (tenants in turn), one account each, as POST
-- /v1/partner/users and POST /v1/partner/accounts make them.
CREATE PROCEDURE bench.seed_traders(p_lo integer, p_hi integer)
LANGUAGE plpgsql AS $$
DECLARE
    g integer;
    r record;
    t text;
    u bigint;
    b jsonb;
BEGIN
    FOR g IN p_lo .. p_hi LOOP
        t := bench.tenant_of(g);
        SELECT * INTO r FROM api.pp_register_user(t, 'bench-trader-' || g,
                                                  'bench-trader-' || g || '@bench.example.com', '{}');
        u := (bench.expect('pp_register_user', r.status, r.body, 201)->>'user_id')::bigint;
        INSERT INTO bench.users VALUES (g, t, u, 'bench-trader-' || g,
                                        'bench-trader-' || g || '@bench.example.com');
        SELECT * INTO r FROM api.pp_create_account(t, u, 'bench-account-' || g, 'challenge',
                                                   100000.00, '{}', '{}');
        b := bench.expect('pp_create_account', r.status, r.body, 201);
        INSERT INTO bench.accounts VALUES (g, t, (b->>'account_id')::uuid, u,
                                           'bench-account-' || g, 'challenge', '100000.00');
        -- short transactions, as the API's: every registration and account
        -- KEY SHARE-locks its tenant's row from a subtransaction, and one
        -- transaction's growing multixact on that row slows every next one
        IF g % 100 = 0 THEN
            COMMIT;
        END IF;
    END LOOP;
END
$$;

-- Open positions: every account lo, lo + step, ... <= hi buys p_positions
-- outcome tokens with market orders (its tokens follow on from the previous
-- account's, so the positions spread evenly over all tokens).
CREATE PROCEDURE bench.seed_positions(p_lo integer, p_hi integer, p_step integer,
                                      p_positions integer)
LANGUAGE plpgsql AS $$
DECLARE
    ntokens integer := (SELECT count(*) FROM bench.tokens);
    a bench.accounts;
    g integer;
    j integer;
    k integer := 0;
    r record;
BEGIN
    FOR g IN p_lo .. p_hi BY p_step LOOP
        SELECT * INTO STRICT a FROM bench.accounts WHERE n = g;
        FOR j IN 0 .. p_positions - 1 LOOP
            SELECT * INTO r FROM api.pp_place_order(
                a.tenant, a.id, (SELECT token_id FROM bench.tokens
                                 WHERE n = ((g - 1) * p_positions + j) % ntokens + 1),
                'BUY', 'market', 1 + (g + j) % 20, NULL, NULL, NULL, 0, 0);
            PERFORM bench.expect('pp_place_order (market BUY)', r.status, r.body, 201);
        END LOOP;
        k := k + 1;
        IF k % 100 = 0 THEN
            COMMIT;
        END IF;
    END LOOP;
END
$$;

-- Resting limit orders on every p_every-th account: a BUY below the book on
-- a token it does not hold (reserving cash) and a SELL above the book on one
-- it holds (reserving shares).
CREATE PROCEDURE bench.seed_resting(p_every integer, p_positions integer)
LANGUAGE plpgsql AS $$
DECLARE
    ntokens integer := (SELECT count(*) FROM bench.tokens);
    a bench.accounts;
    r record;
    tok text;
    mt market_tokens;
BEGIN
    FOR a IN SELECT * FROM bench.accounts WHERE n % p_every = 0 ORDER BY n LOOP
        SELECT t.* INTO STRICT mt FROM market_tokens t JOIN bench.tokens b USING (token_id)
        WHERE b.n = ((a.n - 1) * p_positions + p_positions) % ntokens + 1;
        SELECT * INTO r FROM api.pp_place_order(a.tenant, a.id, mt.token_id, 'BUY', 'limit', 10,
                                                greatest(mt.best_bid - 0.03, 0.01), NULL,
                                                'bench-rest-buy', 0, 0);
        IF bench.expect('pp_place_order (limit BUY)', r.status, r.body, 201)->>'status' <> 'open' THEN
            RAISE EXCEPTION 'seed: the resting BUY filled: %', r.body;
        END IF;
        SELECT t.* INTO STRICT mt FROM market_tokens t JOIN bench.tokens b USING (token_id)
        WHERE b.n = ((a.n - 1) * p_positions) % ntokens + 1;
        SELECT * INTO r FROM api.pp_place_order(a.tenant, a.id, mt.token_id, 'SELL', 'limit', 1,
                                                least(mt.best_ask + 0.03, 0.99), NULL,
                                                'bench-rest-sell', 0, 0);
        IF bench.expect('pp_place_order (limit SELL)', r.status, r.body, 201)->>'status' <> 'open' THEN
            RAISE EXCEPTION 'seed: the resting SELL filled: %', r.body;
        END IF;
        IF a.n % (p_every * 50) = 0 THEN
            COMMIT;
        END IF;
    END LOOP;
END
$$;

-- The trades-feed account: its own trader in the first tenant, p_fills
-- market orders over 10 tokens (BUY, BUY, SELL of 1 share on one token, then
-- the next token), so it ends with 10 open positions and p_fills fills.
CREATE PROCEDURE bench.seed_feed(p_fills integer)
LANGUAGE plpgsql AS $$
DECLARE
    t text := bench.tenant_of(1);
    u bigint;
    acc uuid;
    r record;
    g integer;
    toks text[] := ARRAY(SELECT token_id FROM bench.tokens ORDER BY n LIMIT 10);
BEGIN
    SELECT * INTO r FROM api.pp_register_user(t, 'bench-feed-trader', 'bench-feed-trader@bench.example.com', '{}');
    u := (bench.expect('pp_register_user', r.status, r.body, 201)->>'user_id')::bigint;
    SELECT * INTO r FROM api.pp_create_account(t, u, 'bench-feed', 'funded', 1000000.00, '{}', '{}');
    acc := (bench.expect('pp_create_account', r.status, r.body, 201)->>'account_id')::uuid;
    INSERT INTO bench.feed VALUES (t, acc, p_fills);
    COMMIT;
    FOR g IN 1 .. p_fills LOOP
        SELECT * INTO r FROM api.pp_place_order(
            t, acc, toks[(g - 1) / 3 % array_length(toks, 1) + 1],
            CASE WHEN g % 3 = 0 THEN 'SELL' ELSE 'BUY' END, 'market', 1,
            NULL, NULL, NULL, 0, 0);
        PERFORM bench.expect('pp_place_order (feed)', r.status, r.body, 201);
        -- every order updates the same wallet row: within one transaction its
        -- versions cannot be pruned and every lookup walks them all
        IF g % 100 = 0 THEN
            COMMIT;
        END IF;
    END LOOP;
END
$$;
