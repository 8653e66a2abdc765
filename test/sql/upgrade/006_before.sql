-- Run by test/harness/run-sql-tests on a database at migration 006 (the last
-- release's migrations), with the test helpers of 000_setup.sql loaded;
-- 006_after.sql checks it after the upgrade by the current sql/migrate.
--
-- The platform before the upgrade: five traders with an account each, and
-- ids handed out by the sequences in transactions that rolled back.
SELECT pp_test_account('up-a', pp_test_user('up-a', 'up-' || g, format('up-%s@example.com', g)),
                       'up-acc-' || g)
FROM generate_series(1, 5) g;
SELECT setval(pg_get_serial_sequence('users', 'id'), 40);
SELECT setval(pg_get_serial_sequence('wallets', 'id'), 70);
CREATE TABLE up_before AS
SELECT u.id AS user_id, u.email, a.id AS account_id, a.wallet_id,
       (SELECT id FROM wallets WHERE user_id = u.id AND kind = 'personal') AS personal_wallet
FROM users u JOIN accounts a ON a.user_id = u.id;
