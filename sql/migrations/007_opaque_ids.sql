-- Opaque user and wallet ids.
--
-- users.id (the API's user_id) and wallets.id (wallet_id) came from global
-- identity sequences, so their order and gaps told a tenant what happened on
-- the platform between two of its requests: registering an email another
-- tenant already had returned an older user_id than a never-seen email, and
-- the wallet_id gap between two accounts counted the personal wallets (new
-- traders) created in between. New ids are now a keyed pseudo-random
-- permutation of a counter, so neither their order nor their density says
-- anything.
--
-- Each id space (users, wallets) has its own counter, secret key and floor:
--  * floor is above every id the old identity sequence can have handed out
--    (also in rolled-back transactions), so existing rows keep their ids and
--    new ids can never collide with them;
--  * id(n) = the 52-bit Feistel permutation keyed by the space's key, applied
--    to floor + n and repeated ("cycle walking") until the result is at least
--    floor. That is a permutation of [floor, 2^52), so ids are distinct,
--    positive and below 2^52 (a JSON number any client reads exactly).
-- The keys are random per database, made here, and read only by
-- pp_next_opaque_id (SECURITY DEFINER), so no API role needs to read
-- opaque_id_spaces.

CREATE TABLE opaque_id_spaces (
    name     text PRIMARY KEY,
    floor    bigint NOT NULL CHECK (floor >= 1 AND floor < 4503599627370496),
    key      bytea NOT NULL CHECK (octet_length(key) = 32),
    counter  regclass NOT NULL
);
REVOKE ALL ON opaque_id_spaces FROM PUBLIC;

-- The keyed Feistel permutation of [0, 2^52): two 26-bit halves, 8 rounds,
-- round function the first 26 bits of SHA-256(key || round || right half).
CREATE FUNCTION pp_feistel52(p_key bytea, p_x bigint) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    l bigint := p_x >> 26;
    r bigint := p_x & 67108863;
    t bigint;
BEGIN
    IF p_x < 0 OR p_x >= 4503599627370496 THEN
        RAISE EXCEPTION 'pp_feistel52: % is outside [0, 2^52)', p_x;
    END IF;
    FOR i IN 1..8 LOOP
        t := l # (('x' || encode(substr(sha256(p_key || int4send(i) || int4send(r::integer)),
                                        1, 4), 'hex'))::bit(32)::integer & 67108863);
        l := r;
        r := t;
    END LOOP;
    RETURN (l << 26) | r;
END
$$;

-- The n-th id (n >= 0) of a space with this key and floor: the permutation
-- restricted to [floor, 2^52) by cycle walking, applied to floor + n.
CREATE FUNCTION pp_opaque_id(p_key bytea, p_floor bigint, p_n bigint) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    x bigint := p_floor + p_n;
BEGIN
    IF p_n < 0 OR x >= 4503599627370496 THEN
        RAISE EXCEPTION 'pp_opaque_id: counter % is outside the id space above %', p_n, p_floor;
    END IF;
    LOOP
        x := pp_feistel52(p_key, x);
        EXIT WHEN x >= p_floor;
    END LOOP;
    RETURN x;
END
$$;

-- The next id of a space (the column default of users.id and wallets.id).
CREATE FUNCTION pp_next_opaque_id(p_space text) RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER AS $$
DECLARE
    s opaque_id_spaces;
BEGIN
    SELECT * INTO STRICT s FROM opaque_id_spaces WHERE name = p_space;
    RETURN pp_opaque_id(s.key, s.floor, nextval(s.counter));
END
$$;
-- A SECURITY DEFINER function must not resolve names through the caller's
-- search_path, nor through pg_temp ahead of its own schema.
DO $$
BEGIN
    EXECUTE format('ALTER FUNCTION pp_next_opaque_id(text) SET search_path = %I, pg_temp',
                   current_schema());
END
$$;

-- Replaces the identity of TABLE.id by the space TABLE: floor = one above
-- both the old sequence's last value and the largest id, a fresh random key.
CREATE FUNCTION pp_opaque_ids_adopt(p_table text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v_seq regclass := pg_get_serial_sequence(p_table, 'id')::regclass;
    v_max bigint;
    v_floor bigint;
BEGIN
    EXECUTE format('LOCK TABLE %I IN EXCLUSIVE MODE', p_table);
    EXECUTE format('SELECT max(id) FROM %I', p_table) INTO v_max;
    v_floor := greatest(coalesce(pg_sequence_last_value(v_seq), 0), coalesce(v_max, 0)) + 1;
    EXECUTE format('CREATE SEQUENCE %I AS bigint MINVALUE 0 START 0 OWNED BY %I.id',
                   p_table || '_id_counter', p_table);
    INSERT INTO opaque_id_spaces (name, floor, key, counter)
    VALUES (p_table, v_floor,
            sha256(uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid())),
            (p_table || '_id_counter')::regclass);
    EXECUTE format('ALTER TABLE %I ALTER COLUMN id DROP IDENTITY', p_table);
    EXECUTE format('ALTER TABLE %I ALTER COLUMN id SET DEFAULT pp_next_opaque_id(%L)',
                   p_table, p_table);
END
$$;

DO $$
BEGIN
    PERFORM pp_opaque_ids_adopt('users');
    PERFORM pp_opaque_ids_adopt('wallets');
END
$$;
DROP FUNCTION pp_opaque_ids_adopt(text);
