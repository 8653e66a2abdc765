-- bench/account-sql-seed.sql: the realistic data bench/account-sql measures on,
-- written through the engine's own api functions (as the schema owner).
-- psql variables: accounts (how many), positions (open positions per account).
--
-- 3 tenants; one trader and one account per seeded index i (1..accounts),
-- the account's id made predictable (bench_account_id(i)) so that pgbench can
-- pick a random one without a lookup; each account buys `positions` distinct
-- outcome tokens with market orders (filled orders, fills, positions).
-- Besides: every 4th account rests a BUY limit order (reserved cash), every
-- 10th a SELL limit order (reserved shares), every 5th places and cancels one,
-- every 7th sells one position back (a closed position), every 40th is reset
-- and buys 2 tokens again, every 50th is closed.

\set ON_ERROR_STOP 1
SET client_min_messages = warning;
SET search_path = public, api, engine;

-- The account id of seeded index i; its tenant is bench-(i % 3), its trader's
-- session hash sha256('session-' || i).
CREATE OR REPLACE FUNCTION public.bench_account_id(i integer) RETURNS uuid
LANGUAGE sql IMMUTABLE AS $$
    SELECT ('00000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid
$$;

-- markets: enough tokens for distinct positions, two per market, with depth
SELECT count(*) AS markets FROM (
    SELECT api.pp_upsert_market('0xbench' || lpad(m::text, 8, '0'), 'Bench market ' || m,
        'bench-market-' || m, false,
        jsonb_build_array(
            jsonb_build_object('token_id', (100000000 + 2 * m)::text, 'outcome', 'Yes'),
            jsonb_build_object('token_id', (100000000 + 2 * m + 1)::text, 'outcome', 'No')))
    FROM generate_series(1, greatest(:positions * 25, :accounts / 4)) m) s;

SELECT api.pp_apply_price_updates(jsonb_agg(jsonb_build_object(
    'token_id', token_id,
    'best_bid', p.bid::text, 'best_ask', (p.bid + 0.02)::text,
    'midpoint', (p.bid + 0.01)::text, 'last_trade_price', (p.bid + 0.01)::text,
    'bids', jsonb_build_array(jsonb_build_array(p.bid::text, '1000000')),
    'asks', jsonb_build_array(jsonb_build_array((p.bid + 0.02)::text, '1000000')))))
FROM market_tokens,
     LATERAL (SELECT 0.05 + (token_id::bigint % 89) / 100.0 AS bid) p;

-- traders and accounts
CREATE TEMP TABLE bench_seed AS
SELECT i, 'bench-' || (i % 3) AS tenant FROM generate_series(1, :accounts) i;

SELECT count(*) AS traders FROM (
    SELECT api.pp_register_user(tenant, 'trader-' || i, 'trader-' || i || '@bench.example',
                                jsonb_build_object('seq', i))
    FROM bench_seed) s;

SELECT count(*) AS accounts FROM (
    SELECT api.pp_create_account(b.tenant, m.user_id, 'account-' || b.i,
        (ARRAY['demo', 'challenge', 'funded'])[1 + b.i % 3], 10000 + (b.i % 7) * 2500,
        '{"max_drawdown":"0.10","daily_loss_limit":"500.00"}', jsonb_build_object('seq', b.i))
    FROM bench_seed b JOIN tenant_users m ON m.tenant = b.tenant AND m.external_id = 'trader-' || b.i) s;

UPDATE accounts a SET id = bench_account_id(b.i)
FROM bench_seed b WHERE a.tenant = b.tenant AND a.external_id = 'account-' || b.i;

-- the trader of seeded index i (user ids are opaque)
CREATE TABLE public.bench_users AS
SELECT b.i, m.user_id FROM bench_seed b
JOIN tenant_users m ON m.tenant = b.tenant AND m.external_id = 'trader-' || b.i;
ALTER TABLE public.bench_users ADD PRIMARY KEY (i);

-- a signed-in session per trader: login link created, sent, redeemed
SELECT count(*) AS links FROM (
    SELECT api.pp_login_link_create(b.tenant, u.user_id, sha256(('link-' || b.i)::bytea),
                                    'https://bench.example/app', 86400, 1000, 3600)
    FROM bench_seed b JOIN bench_users u ON u.i = b.i) s;
SELECT count(*) AS sent FROM (
    SELECT api.pp_login_link_sent(sha256(('link-' || b.i)::bytea)) FROM bench_seed b) s;
SELECT count(*) FILTER (WHERE r.status = 200) AS sessions
FROM bench_seed b,
     LATERAL api.pp_login_token_redeem(sha256(('link-' || b.i)::bytea),
                                       sha256(('session-' || b.i)::bytea), 86400 * 30) r;

-- positions: market BUYs of distinct tokens (quantities and tokens vary)
CREATE TEMP TABLE bench_tokens AS
SELECT row_number() OVER (ORDER BY token_id) - 1 AS n, token_id FROM market_tokens;

SELECT count(*) FILTER (WHERE r.status = 201) AS market_orders,
       count(*) FILTER (WHERE r.status <> 201) AS refused
FROM bench_seed b, generate_series(0, :positions - 1) k,
     LATERAL (SELECT token_id FROM bench_tokens
              WHERE n = (b.i * 7 + k * 23) % (SELECT count(*) FROM bench_tokens)) t,
     LATERAL api.pp_place_order(b.tenant, bench_account_id(b.i), t.token_id, 'BUY', 'market',
                                1 + (b.i * 13 + k * 7) % 50 + ((b.i + k) % 4) * 0.25, NULL, NULL,
                                'seed-' || k, 0.002, 0) r;

-- resting BUY limit orders below the book (reserve cash)
SELECT count(*) AS resting_buys FROM (
    SELECT api.pp_place_order(b.tenant, bench_account_id(b.i), t.token_id, 'BUY', 'limit', 10,
                              0.01, NULL, 'rest-buy', 0.002, 0)
    FROM bench_seed b JOIN bench_tokens t ON t.n = (b.i * 3) % 50
    WHERE b.i % 4 = 0) s;

-- resting SELL limit orders above the book (reserve shares of a held token)
SELECT count(*) AS resting_sells FROM (
    SELECT api.pp_place_order(b.tenant, bench_account_id(b.i), t.token_id, 'SELL', 'limit', 1,
                              0.99, NULL, 'rest-sell', 0, 0)
    FROM bench_seed b JOIN bench_tokens t
      ON t.n = (b.i * 7) % (SELECT count(*) FROM bench_tokens)
    WHERE b.i % 10 = 0) s;

-- placed and cancelled
SELECT count(*) AS cancelled FROM (
    SELECT api.pp_cancel_order(b.tenant, bench_account_id(b.i), o.id)
    FROM bench_seed b,
         LATERAL api.pp_place_order(b.tenant, bench_account_id(b.i), '100000002', 'BUY', 'limit',
                                    5, 0.02, NULL, 'cancel-me', 0, 0) r,
         LATERAL (SELECT (r.body::jsonb->>'order_id')::bigint AS id) o
    WHERE b.i % 5 = 0) s;

-- one position sold back in full (closed)
SELECT count(*) AS sold_back FROM (
    SELECT api.pp_place_order(b.tenant, bench_account_id(b.i), p.token_id, 'SELL', 'market',
                              p.quantity - p.reserved_quantity, NULL, NULL, 'sell-back', 0, 0)
    FROM bench_seed b
    JOIN accounts a ON a.id = bench_account_id(b.i)
    JOIN LATERAL (SELECT * FROM positions p WHERE p.wallet_id = a.wallet_id
                    AND p.closed_at IS NULL AND p.reserved_quantity = 0
                  ORDER BY p.id DESC LIMIT 1) p ON true
    WHERE b.i % 7 = 0) s;

-- reset (positions archived), then two new positions
SELECT count(*) AS reset FROM (
    SELECT api.pp_reset_account(b.tenant, bench_account_id(b.i), 1000)
    FROM bench_seed b WHERE b.i % 40 = 1) s;
SELECT count(*) AS after_reset FROM (
    SELECT api.pp_place_order(b.tenant, bench_account_id(b.i), t.token_id, 'BUY', 'market', 3,
                              NULL, NULL, 'after-reset-' || k, 0, 0)
    FROM bench_seed b, generate_series(0, 1) k JOIN bench_tokens t ON t.n = 40 + k
    WHERE b.i % 40 = 1) s;

-- closed
SELECT count(*) AS closed FROM (
    SELECT api.pp_close_account(b.tenant, bench_account_id(b.i), 1000)
    FROM bench_seed b WHERE b.i % 50 = 0) s;
