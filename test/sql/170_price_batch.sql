-- 006: the set-based pp_apply_price_updates and the token-id CHECK.

-- test: a batch naming a token twice applies its updates in order, so a later update's absent keys keep what an earlier one set
DO $$
DECLARE
    t market_tokens;
BEGIN
    PERFORM pp_test_market('0xe170a', ARRAY['170001', '170002']);
    PERFORM pp_apply_price_updates('[
        {"token_id": "170001", "best_bid": "0.40", "best_ask": "0.42", "last_trade_price": "0.41"},
        {"token_id": "170002", "best_bid": "0.58"},
        {"token_id": "170001", "best_ask": "0.45", "last_trade_price": null}]');
    SELECT * INTO STRICT t FROM market_tokens WHERE token_id = '170001';
    PERFORM pp_test_eq(format('%s/%s/%s', t.best_bid, t.best_ask, t.last_trade_price),
                       '0.4000/0.4500/', 'bid from the first, ask and cleared last from the second');
    PERFORM pp_test_eq((SELECT best_bid FROM market_tokens WHERE token_id = '170002'),
                       0.58::numeric, 'the sibling in between');
END $$;

-- test: a batch with repeated tokens still fills the orders its final prices cross, once
DO $$
DECLARE
    u bigint := pp_test_user('pb-a', 'pb-1', 'pb1@example.com');
    a uuid := pp_test_account('pb-a', u, 'pb1-acc', 1000);
BEGIN
    PERFORM pp_test_priced('0xe170b', '170011', 0.40, 0.42);
    PERFORM pp_test_place('pb-a', a, '170011', 'BUY', 'limit', 10, 0.35);
    PERFORM pp_test_eq(pp_apply_price_updates('[
        {"token_id": "170011", "best_bid": "0.30", "best_ask": "0.34"},
        {"token_id": "170011", "best_bid": "0.31"}]'), 1, 'one fill');
    PERFORM pp_test_eq((SELECT count(*) FROM fills f JOIN orders o ON o.id = f.order_id
                        WHERE o.token_id = '170011'), 1::bigint, 'filled once');
END $$;

-- test: token ids stay decimal digits of at most 78 characters
DO $$
BEGIN
    INSERT INTO markets (condition_id, question) VALUES ('0xe170c', 'q');
    INSERT INTO market_tokens (token_id, condition_id, outcome)
    VALUES (repeat('9', 78), '0xe170c', 'Yes');
    BEGIN
        INSERT INTO market_tokens (token_id, condition_id, outcome)
        VALUES (repeat('9', 79), '0xe170c', 'No');
        RAISE EXCEPTION 'a 79-digit token id was accepted';
    EXCEPTION WHEN check_violation THEN NULL;
    END;
    BEGIN
        INSERT INTO market_tokens (token_id, condition_id, outcome) VALUES ('12a', '0xe170c', 'No');
        RAISE EXCEPTION 'a token id with a letter was accepted';
    EXCEPTION WHEN check_violation THEN NULL;
    END;
    BEGIN
        INSERT INTO market_tokens (token_id, condition_id, outcome) VALUES ('', '0xe170c', 'No');
        RAISE EXCEPTION 'an empty token id was accepted';
    EXCEPTION WHEN check_violation THEN NULL;
    END;
END $$;
