-- Native traders and their mapping to tenants: registration and the user
-- profile.

-- The opening balance of a native trader's personal wallet (as on the
-- native platform's main wallet).
CREATE OR REPLACE FUNCTION engine.pp_personal_opening_balance() RETURNS numeric
LANGUAGE sql IMMUTABLE AS $$ SELECT 1000.00::numeric $$;

CREATE OR REPLACE FUNCTION engine.pp_open_personal_wallet(p_user_id bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    v_wallet bigint;
BEGIN
    INSERT INTO wallets (user_id, kind, balance)
    VALUES (p_user_id, 'personal', pp_personal_opening_balance())
    RETURNING id INTO v_wallet;
    INSERT INTO ledger (wallet_id, amount, cause)
    VALUES (v_wallet, pp_personal_opening_balance(), 'deposit');
    RETURN v_wallet;
END
$$;

CREATE OR REPLACE FUNCTION engine.pp_user_json(m tenant_users, p_email text, p_created boolean) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT format('{"user_id":%s,"tenant_user_id":%s,"external_id":%s,"email":%s,'
                  '"metadata":%s,"created":%s}',
                  m.user_id, to_json(m.id), to_json(m.external_id), to_json(p_email),
                  m.metadata, to_json(p_created))
$$;

-- The answer for a registration whose external_id is already mapped.
CREATE OR REPLACE FUNCTION engine.pp_registration_replay(m tenant_users, p_email text)
RETURNS TABLE (status integer, body text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_mapped_email text;
BEGIN
    SELECT email INTO STRICT v_mapped_email FROM users WHERE id = m.user_id;
    IF v_mapped_email = p_email THEN
        RETURN QUERY SELECT 200, pp_user_json(m, v_mapped_email, false);
    ELSE
        RETURN QUERY SELECT * FROM pp_error('EXTERNAL_ID_CONFLICT',
            'external_id is already registered with a different email');
    END IF;
END
$$;

-- POST /v1/partner/users. Idempotent on (tenant, external_id); links to an
-- existing native user by email without saying so.
CREATE OR REPLACE FUNCTION api.pp_register_user(p_tenant text, p_external_id text, p_email text,
                                 p_metadata jsonb)
RETURNS TABLE (status integer, body text)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, engine, pg_temp AS $$
DECLARE
    m tenant_users;
    v_user_id bigint;
BEGIN
    SELECT * INTO m FROM tenant_users WHERE tenant = p_tenant AND external_id = p_external_id;
    IF FOUND THEN
        RETURN QUERY SELECT * FROM pp_registration_replay(m, p_email);
        RETURN;
    END IF;

    INSERT INTO tenants (name) VALUES (p_tenant) ON CONFLICT DO NOTHING;

    -- A subtransaction, so a user created here disappears again if the
    -- mapping then conflicts: a rejected request writes nothing.
    BEGIN
        INSERT INTO users (email) VALUES (p_email)
        ON CONFLICT (email) DO NOTHING
        RETURNING id INTO v_user_id;
        IF v_user_id IS NULL THEN
            SELECT id INTO STRICT v_user_id FROM users WHERE email = p_email;
        ELSE
            PERFORM pp_open_personal_wallet(v_user_id);
        END IF;

        INSERT INTO tenant_users (tenant, external_id, user_id, metadata)
        VALUES (p_tenant, p_external_id, v_user_id, p_metadata)
        ON CONFLICT DO NOTHING
        RETURNING * INTO m;
        IF m.id IS NULL THEN
            RAISE EXCEPTION 'mapping conflict' USING ERRCODE = 'PP409';
        END IF;
    EXCEPTION WHEN SQLSTATE 'PP409' THEN
        -- Either a concurrent identical registration won the race (replay),
        -- or this trader is already mapped under another external_id.
        SELECT * INTO m FROM tenant_users WHERE tenant = p_tenant AND external_id = p_external_id;
        IF FOUND THEN
            RETURN QUERY SELECT * FROM pp_registration_replay(m, p_email);
        ELSE
            RETURN QUERY SELECT * FROM pp_error('USER_ALREADY_MAPPED',
                'this trader is already registered under a different external_id');
        END IF;
        RETURN;
    END;

    RETURN QUERY SELECT 201, pp_user_json(m, p_email, true);
END
$$;
GRANT EXECUTE ON FUNCTION api.pp_register_user(text,text,text,jsonb) TO polypartner_api;

-- GET /v1/partner/users/{user_id}: only this tenant's mapping, never a hint
-- that the native user exists elsewhere, with the tenant's accounts of the
-- trader, newest first, in the summary shape.
CREATE OR REPLACE FUNCTION api.pp_get_user(p_tenant text, p_user_id bigint)
RETURNS TABLE (status integer, body text)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = public, engine, pg_temp AS $$
DECLARE
    m tenant_users;
    v_email text;
    v_accounts text;
BEGIN
    SELECT * INTO m FROM tenant_users WHERE tenant = p_tenant AND user_id = p_user_id;
    IF NOT FOUND THEN
        RETURN QUERY SELECT * FROM pp_error('USER_NOT_FOUND',
            'no user with this user_id is registered by your tenant');
        RETURN;
    END IF;
    SELECT email INTO STRICT v_email FROM users WHERE id = m.user_id;
    SELECT coalesce('[' || string_agg(pp_account_summary_json(a), ','
                                      ORDER BY a.created_at DESC, a.id DESC) || ']', '[]')
    INTO v_accounts
    FROM accounts a WHERE a.tenant = p_tenant AND a.user_id = p_user_id;
    RETURN QUERY SELECT 200, format(
        '{"user_id":%s,"tenant_user_id":%s,"external_id":%s,"email":%s,"metadata":%s,'
        '"accounts":%s}',
        m.user_id, to_json(m.id), to_json(m.external_id), to_json(v_email), m.metadata,
        v_accounts);
END
$$;
GRANT EXECUTE ON FUNCTION api.pp_get_user(text,bigint) TO polypartner_api;
