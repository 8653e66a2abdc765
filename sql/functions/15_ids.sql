-- Opaque user and wallet ids: a keyed pseudo-random permutation of a
-- per-space counter (the spaces, keys and floors are in opaque_id_spaces,
-- made by migration 007, which explains the scheme).

-- The keyed Feistel permutation of [0, 2^52): two 26-bit halves, 8 rounds,
-- round function the first 26 bits of SHA-256(key || round || right half).
CREATE OR REPLACE FUNCTION engine.pp_feistel52(p_key bytea, p_x bigint) RETURNS bigint
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
CREATE OR REPLACE FUNCTION engine.pp_opaque_id(p_key bytea, p_floor bigint, p_n bigint) RETURNS bigint
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
-- SECURITY DEFINER so that no other role needs to read opaque_id_spaces; it
-- resolves names in its own schemas, never through the caller's search_path
-- nor through pg_temp ahead of them.
CREATE OR REPLACE FUNCTION engine.pp_next_opaque_id(p_space text) RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public, engine, pg_temp AS $$
DECLARE
    s opaque_id_spaces;
BEGIN
    SELECT * INTO STRICT s FROM opaque_id_spaces WHERE name = p_space;
    RETURN pp_opaque_id(s.key, s.floor, nextval(s.counter));
END
$$;

-- The column defaults that draw the ids. They live here, with the function
-- they call (as a trigger would), because a migration runs before the
-- functions exist.
ALTER TABLE users ALTER COLUMN id SET DEFAULT engine.pp_next_opaque_id('users');
ALTER TABLE wallets ALTER COLUMN id SET DEFAULT engine.pp_next_opaque_id('wallets');
