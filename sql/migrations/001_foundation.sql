-- Foundation: tenants, native users with personal wallets, the ledger, and
-- the tenant <-> user mapping. Every state change is a function returning
-- (status, body) so the module makes exactly one round trip per request.

CREATE TABLE tenants (
    name        text PRIMARY KEY CHECK (name ~ '^[a-z0-9_-]{1,64}$'),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email       text NOT NULL UNIQUE
                CHECK (email = lower(btrim(email)) AND length(email) BETWEEN 3 AND 320),
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- A personal wallet belongs to the trader; tenant wallets (one per account)
-- arrive with accounts. No tenant-facing query ever reads personal wallets.
CREATE TABLE wallets (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES users (id),
    kind        text NOT NULL CHECK (kind IN ('personal', 'tenant')),
    balance     numeric(16, 2) NOT NULL DEFAULT 0 CHECK (balance >= 0),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX wallets_one_personal_per_user ON wallets (user_id) WHERE kind = 'personal';

-- Every change to a wallet's cash, with its cause; a wallet's balance always
-- equals the sum of its entries.
CREATE TABLE ledger (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    wallet_id   bigint NOT NULL REFERENCES wallets (id),
    amount      numeric(16, 2) NOT NULL,
    cause       text NOT NULL
                CHECK (cause IN ('deposit', 'fill', 'fee', 'reserve', 'release', 'reset',
                                 'settlement')),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ledger_by_wallet ON ledger (wallet_id, id);

CREATE TABLE tenant_users (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant       text NOT NULL REFERENCES tenants (name),
    external_id  text NOT NULL CHECK (char_length(external_id) BETWEEN 1 AND 255),
    user_id      bigint NOT NULL REFERENCES users (id),
    metadata     jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant, external_id),
    UNIQUE (tenant, user_id)
);

-- The opening balance of a native trader's personal wallet (as on the
-- native platform's main wallet).
CREATE FUNCTION pp_personal_opening_balance() RETURNS numeric
LANGUAGE sql IMMUTABLE AS $$ SELECT 1000.00::numeric $$;

-- Response bodies are built as compact JSON in documented field order, the
-- same form the module uses for the envelopes it writes itself.
CREATE FUNCTION pp_error_json(p_code text, p_message text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT format('{"error":%s,"message":%s}', to_json(p_code), to_json(p_message))
$$;

CREATE FUNCTION pp_open_personal_wallet(p_user_id bigint) RETURNS bigint
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

CREATE FUNCTION pp_user_json(m tenant_users, p_email text, p_created boolean) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT format('{"user_id":%s,"tenant_user_id":%s,"external_id":%s,"email":%s,'
                  '"metadata":%s,"created":%s}',
                  m.user_id, to_json(m.id), to_json(m.external_id), to_json(p_email),
                  m.metadata, to_json(p_created))
$$;

-- The answer for a registration whose external_id is already mapped.
CREATE FUNCTION pp_registration_replay(m tenant_users, p_email text)
RETURNS TABLE (status integer, body text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_mapped_email text;
BEGIN
    SELECT email INTO STRICT v_mapped_email FROM users WHERE id = m.user_id;
    IF v_mapped_email = p_email THEN
        RETURN QUERY SELECT 200, pp_user_json(m, v_mapped_email, false);
    ELSE
        RETURN QUERY SELECT 409, pp_error_json('EXTERNAL_ID_CONFLICT',
            'external_id is already registered with a different email');
    END IF;
END
$$;

-- POST /v1/partner/users. Idempotent on (tenant, external_id); links to an
-- existing native user by email without saying so.
CREATE FUNCTION pp_register_user(p_tenant text, p_external_id text, p_email text,
                                 p_metadata jsonb)
RETURNS TABLE (status integer, body text)
LANGUAGE plpgsql AS $$
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
            RETURN QUERY SELECT 409, pp_error_json('USER_ALREADY_MAPPED',
                'this trader is already registered under a different external_id');
        END IF;
        RETURN;
    END;

    RETURN QUERY SELECT 201, pp_user_json(m, p_email, true);
END
$$;

-- GET /v1/partner/users/{user_id}: only this tenant's mapping, never a hint
-- that the native user exists elsewhere.
CREATE FUNCTION pp_get_user(p_tenant text, p_user_id bigint)
RETURNS TABLE (status integer, body text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    m tenant_users;
    v_email text;
BEGIN
    SELECT * INTO m FROM tenant_users WHERE tenant = p_tenant AND user_id = p_user_id;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 404, pp_error_json('USER_NOT_FOUND',
            'no user with this user_id is registered by your tenant');
        RETURN;
    END IF;
    SELECT email INTO STRICT v_email FROM users WHERE id = m.user_id;
    RETURN QUERY SELECT 200, format(
        '{"user_id":%s,"tenant_user_id":%s,"external_id":%s,"email":%s,"metadata":%s,'
        '"accounts":[]}',
        m.user_id, to_json(m.id), to_json(m.external_id), to_json(v_email), m.metadata);
END
$$;
