-- The engine's functions move out of the migrations into sql/functions/*.sql
-- (re-applied by sql/migrate whenever a file changes), into two schemas:
--
--   api     what the module and the price-feed daemon call. SECURITY
--           DEFINER, so their callers need no privilege on any table.
--   engine  the helpers those call; no other role may call them.
--
-- Tables stay in public. EXECUTE is granted to two NOLOGIN roles, per api
-- function, by the function files; an operator makes login users members of
-- them (README, "Database roles"):
--
--   polypartner_api   the module's functions
--   polypartner_feed  the price feed's functions
--
-- This migration makes the schemas and roles and drops the old copies in
-- public, so an upgraded database has no stale definitions. It runs in the
-- same transaction as the function files that replace them.

CREATE SCHEMA api;
CREATE SCHEMA engine;

-- Roles belong to the cluster, not the database: another database of the
-- cluster may have made them already.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'polypartner_api') THEN
        CREATE ROLE polypartner_api NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'polypartner_feed') THEN
        CREATE ROLE polypartner_feed NOLOGIN;
    END IF;
END
$$;
GRANT USAGE ON SCHEMA api TO polypartner_api, polypartner_feed;

-- No function the migrating user makes from now on is callable by PUBLIC
-- (PostgreSQL's default); the function files grant EXECUTE on each api
-- function to its role. (Per-schema default privileges can only add to the
-- global ones, so this is the migrating user's global default.)
ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;

-- The id defaults call the old public.pp_next_opaque_id when 007 was applied
-- in its first form; sql/functions/15_ids.sql sets them again.
ALTER TABLE users ALTER COLUMN id DROP DEFAULT;
ALTER TABLE wallets ALTER COLUMN id DROP DEFAULT;

-- Every function 001-009 made in public (IF EXISTS: 007 and 009 made
-- some of them only in their first form).
DROP FUNCTION IF EXISTS public.pp_account_created_json(accounts);
DROP FUNCTION IF EXISTS public.pp_account_envelope(uuid);
DROP FUNCTION IF EXISTS public.pp_account_not_found();
DROP FUNCTION IF EXISTS public.pp_account_summary_json(accounts);
DROP FUNCTION IF EXISTS public.pp_apply_price_updates(jsonb);
DROP FUNCTION IF EXISTS public.pp_cancel_order(text,uuid,bigint);
DROP FUNCTION IF EXISTS public.pp_close_account(text,uuid,integer);
DROP FUNCTION IF EXISTS public.pp_create_account(text,bigint,text,text,numeric,jsonb,jsonb);
DROP FUNCTION IF EXISTS public.pp_email_trim(text);
DROP FUNCTION IF EXISTS public.pp_engine_cancel_open_orders(bigint,integer);
DROP FUNCTION IF EXISTS public.pp_engine_cancel_order(bigint);
DROP FUNCTION IF EXISTS public.pp_engine_crossed(orders,market_tokens);
DROP FUNCTION IF EXISTS public.pp_engine_fill(bigint,numeric,numeric);
DROP FUNCTION IF EXISTS public.pp_engine_quote(market_tokens,text,numeric,numeric);
DROP FUNCTION IF EXISTS public.pp_engine_rest_limit_order(bigint,text,text,numeric,numeric,text,numeric);
DROP FUNCTION IF EXISTS public.pp_error_json(text,text);
DROP FUNCTION IF EXISTS public.pp_feistel52(bytea,bigint);
DROP FUNCTION IF EXISTS public.pp_fill_json(fills);
DROP FUNCTION IF EXISTS public.pp_get_account(text,uuid);
DROP FUNCTION IF EXISTS public.pp_get_user(text,bigint);
DROP FUNCTION IF EXISTS public.pp_json_money(numeric);
DROP FUNCTION IF EXISTS public.pp_json_opt_qty(numeric);
DROP FUNCTION IF EXISTS public.pp_json_qty(numeric);
DROP FUNCTION IF EXISTS public.pp_json_time(timestamp with time zone);
DROP FUNCTION IF EXISTS public.pp_json_time_us(timestamp with time zone);
DROP FUNCTION IF EXISTS public.pp_list_markets(text,text,integer,bigint);
DROP FUNCTION IF EXISTS public.pp_list_orders(text,uuid,integer,bigint);
DROP FUNCTION IF EXISTS public.pp_list_trades(text,uuid,integer,text,text,bigint,bigint);
DROP FUNCTION IF EXISTS public.pp_lock_account(text,uuid);
DROP FUNCTION IF EXISTS public.pp_login_link_create(text,bigint,bytea,text,integer,integer,integer);
DROP FUNCTION IF EXISTS public.pp_login_link_failed(bytea);
DROP FUNCTION IF EXISTS public.pp_login_link_invalid(bytea);
DROP FUNCTION IF EXISTS public.pp_login_link_sent(bytea);
DROP FUNCTION IF EXISTS public.pp_login_token_peek(bytea);
DROP FUNCTION IF EXISTS public.pp_login_token_redeem(bytea,bytea,integer);
DROP FUNCTION IF EXISTS public.pp_mark_price(market_tokens,numeric);
DROP FUNCTION IF EXISTS public.pp_next_opaque_id(text);
DROP FUNCTION IF EXISTS public.pp_opaque_id(bytea,bigint,bigint);
DROP FUNCTION IF EXISTS public.pp_open_personal_wallet(bigint);
DROP FUNCTION IF EXISTS public.pp_order_error(integer,text,text);
DROP FUNCTION IF EXISTS public.pp_order_json(bigint);
DROP FUNCTION IF EXISTS public.pp_orders_not_cancelled(bigint);
DROP FUNCTION IF EXISTS public.pp_patch_account(text,uuid,jsonb,jsonb);
DROP FUNCTION IF EXISTS public.pp_personal_opening_balance();
DROP FUNCTION IF EXISTS public.pp_place_order(text,uuid,text,text,text,numeric,numeric,numeric,text,numeric,integer);
DROP FUNCTION IF EXISTS public.pp_price_rows_apply(jsonb);
DROP FUNCTION IF EXISTS public.pp_register_user(text,text,text,jsonb);
DROP FUNCTION IF EXISTS public.pp_registration_replay(tenant_users,text);
DROP FUNCTION IF EXISTS public.pp_renormalize_emails();
DROP FUNCTION IF EXISTS public.pp_reset_account(text,uuid,integer);
DROP FUNCTION IF EXISTS public.pp_session_end(bytea);
DROP FUNCTION IF EXISTS public.pp_session_user(bytea);
DROP FUNCTION IF EXISTS public.pp_settle_market(text,text);
DROP FUNCTION IF EXISTS public.pp_touch_prices(jsonb);
DROP FUNCTION IF EXISTS public.pp_trader_account(bigint,uuid);
DROP FUNCTION IF EXISTS public.pp_trader_account_json(accounts);
DROP FUNCTION IF EXISTS public.pp_trader_account_not_found();
DROP FUNCTION IF EXISTS public.pp_trader_account_tenant(bigint,uuid);
DROP FUNCTION IF EXISTS public.pp_trader_me(bigint);
DROP FUNCTION IF EXISTS public.pp_upsert_market(text,text,text,boolean,jsonb);
DROP FUNCTION IF EXISTS public.pp_user_json(tenant_users,text,boolean);
DROP FUNCTION IF EXISTS public.pp_wallet_post(bigint,numeric,text,bigint);
