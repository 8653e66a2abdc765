-- pp_touch_prices: the price feed confirming unchanged prices (004).

-- test: touching confirms the listed known tokens as current without changing their prices, and ignores unknown ones
DO $$
BEGIN
    PERFORM pp_test_market('0xe160a', ARRAY['160001', '160002']);
    PERFORM pp_test_price('160001', 0.40, 0.42);
    PERFORM pp_test_price('160002', 0.58, 0.60);
    UPDATE market_tokens SET updated_at = now() - interval '10 minutes'
    WHERE token_id IN ('160001', '160002');
    PERFORM pp_test_eq(pp_touch_prices('["160001", "999999"]'), 1, 'one known token touched');
    PERFORM pp_test_eq((SELECT updated_at FROM market_tokens WHERE token_id = '160001'), now(),
                       'the touched token is current');
    PERFORM pp_test_eq((SELECT updated_at FROM market_tokens WHERE token_id = '160002'),
                       now() - interval '10 minutes', 'the other token is left stale');
    PERFORM pp_test_eq((SELECT format('%s/%s', best_bid, best_ask) FROM market_tokens
                        WHERE token_id = '160001'), '0.4000/0.4200', 'prices unchanged');
    PERFORM pp_test_eq(pp_touch_prices('[]'), 0, 'an empty list touches nothing');
END $$;
