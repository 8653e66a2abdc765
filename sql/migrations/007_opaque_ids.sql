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
-- engine.pp_next_opaque_id (SECURITY DEFINER, sql/functions/15_ids.sql),
-- so no API role needs to read opaque_id_spaces. That file also sets the
-- column defaults of users.id and wallets.id (the functions are applied
-- after the migrations); until then, nothing here inserts a row.

CREATE TABLE opaque_id_spaces (
    name     text PRIMARY KEY,
    floor    bigint NOT NULL CHECK (floor >= 1 AND floor < 4503599627370496),
    key      bytea NOT NULL CHECK (octet_length(key) = 32),
    counter  regclass NOT NULL
);
REVOKE ALL ON opaque_id_spaces FROM PUBLIC;

-- Each table adopts its space: floor = one above both the old identity
-- sequence's last value and the largest id (taken before the identity is
-- dropped, with the table locked), a fresh random key, its own counter.
LOCK TABLE users, wallets IN EXCLUSIVE MODE;
CREATE SEQUENCE users_id_counter AS bigint MINVALUE 0 START 0 OWNED BY users.id;
CREATE SEQUENCE wallets_id_counter AS bigint MINVALUE 0 START 0 OWNED BY wallets.id;
INSERT INTO opaque_id_spaces (name, floor, key, counter)
SELECT t.name,
       greatest(coalesce(pg_sequence_last_value(pg_get_serial_sequence(t.name, 'id')::regclass), 0),
                t.max_id) + 1,
       sha256(uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid())),
       (t.name || '_id_counter')::regclass
FROM (VALUES ('users', (SELECT coalesce(max(id), 0) FROM users)),
             ('wallets', (SELECT coalesce(max(id), 0) FROM wallets))) AS t(name, max_id);
ALTER TABLE users ALTER COLUMN id DROP IDENTITY;
ALTER TABLE wallets ALTER COLUMN id DROP IDENTITY;
