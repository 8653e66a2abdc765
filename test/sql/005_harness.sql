-- Self-tests of the helpers in 000_setup.sql: the invariant check must catch
-- what it claims to catch, or every other test proves less than it says.

-- test: invariant check passes on a fresh database with users and accounts
DO $$
DECLARE
    u bigint := pp_test_user('h-a', 'h1', 'h1@example.com');
BEGIN
    PERFORM pp_test_account('h-a', u, 'acc-h1');
    PERFORM pp_test_assert_invariants();
END
$$;

-- test: invariant check catches a balance changed without a ledger entry
DO $$
DECLARE
    u bigint := pp_test_user('h-a', 'h2', 'h2@example.com');
    w bigint := pp_test_wallet(pp_test_account('h-a', u, 'acc-h2'));
    msg text;
BEGIN
    BEGIN
        UPDATE wallets SET balance = balance + 1 WHERE id = w;
        PERFORM pp_test_assert_invariants();
    EXCEPTION WHEN OTHERS THEN
        msg := SQLERRM;
    END;
    PERFORM pp_test_eq(msg, format('invariant: wallet %s has balance 10001.00 but its ledger sums to 10000.00', w),
                       'invariant error');
END
$$;

-- test: invariant check catches a tenant wallet without an account
DO $$
DECLARE
    u bigint := pp_test_user('h-a', 'h3', 'h3@example.com');
    msg text;
BEGIN
    BEGIN
        INSERT INTO wallets (user_id, kind, balance) VALUES (u, 'tenant', 0);
        PERFORM pp_test_assert_invariants();
    EXCEPTION WHEN OTHERS THEN
        msg := SQLERRM;
    END;
    ASSERT msg LIKE 'invariant: tenant wallet % backs 0 accounts%', 'leaked wallet not caught: ' || coalesce(msg, 'no error');
END
$$;

-- test: invariant check catches an open order whose reservation has no ledger entry
DO $$
DECLARE
    u bigint := pp_test_user('h-a', 'h4', 'h4@example.com');
    w bigint := pp_test_wallet(pp_test_account('h-a', u, 'acc-h4'));
    msg text;
BEGIN
    PERFORM pp_test_token('9001');
    BEGIN
        INSERT INTO orders (wallet_id, token_id, side, order_type, quantity, limit_price, status,
                            reserved_cash)
        VALUES (w, '9001', 'BUY', 'limit', 10, 0.5, 'open', 5);
        PERFORM pp_test_assert_invariants();
    EXCEPTION WHEN OTHERS THEN
        msg := SQLERRM;
    END;
    ASSERT msg LIKE 'invariant: open order % reserves 5.00 but its reserve/release entries net 0',
        'unbacked reservation not caught: ' || coalesce(msg, 'no error');
END
$$;

-- test: invariant check catches a position reservation no open order explains
DO $$
DECLARE
    u bigint := pp_test_user('h-a', 'h5', 'h5@example.com');
    w bigint := pp_test_wallet(pp_test_account('h-a', u, 'acc-h5'));
    msg text;
BEGIN
    PERFORM pp_test_token('9002');
    BEGIN
        INSERT INTO positions (wallet_id, token_id, quantity, reserved_quantity, avg_entry_price)
        VALUES (w, '9002', 10, 4, 0.5);
        PERFORM pp_test_assert_invariants();
    EXCEPTION WHEN OTHERS THEN
        msg := SQLERRM;
    END;
    ASSERT msg LIKE 'invariant: position % has reserved_quantity 4.0000 but open SELL orders reserve 0',
        'stray position reservation not caught: ' || coalesce(msg, 'no error');
END
$$;

-- test: snapshot comparison notices a changed row and names the table
DO $$
DECLARE
    u bigint := pp_test_user('h-a', 'h6', 'h6@example.com');
    a uuid := pp_test_account('h-a', u, 'acc-h6');
    before jsonb := pp_test_snapshot();
    msg text;
BEGIN
    PERFORM pp_test_assert_unchanged(before, 'no-op');
    -- a column no event is about: a change of metadata also notes an event
    UPDATE accounts SET stage = 'funded' WHERE id = a;
    BEGIN
        PERFORM pp_test_assert_unchanged(before, 'after update');
    EXCEPTION WHEN OTHERS THEN
        msg := SQLERRM;
    END;
    PERFORM pp_test_eq(msg, 'after update: expected no change in the database, but changed: accounts (1 rows before, 1 after)',
                       'snapshot diff message');
END
$$;
