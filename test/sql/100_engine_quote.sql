-- pp_engine_quote: what a market order would pay (BUY) or receive (SELL),
-- from the top of book or walking stored depth; fill-or-kill (NULL when the
-- whole quantity cannot be executed).

-- test: without depth a BUY quotes the best ask and a SELL the best bid at any size, notional = round(price x quantity, 2)
DO $$
BEGIN
    PERFORM pp_test_token('100001', 0.41, 0.43);
    PERFORM pp_test_eq(pp_test_quote('100001', 'BUY', 12.3456), '0.4300 5.31', 'BUY 12.3456 (5.308608)');
    PERFORM pp_test_eq(pp_test_quote('100001', 'SELL', 12.3456), '0.4100 5.06', 'SELL 12.3456 (5.061696)');
    PERFORM pp_test_eq(pp_test_quote('100001', 'BUY', 10.5), '0.4300 4.52', 'BUY 10.5 (4.515 rounds up)');
    PERFORM pp_test_eq(pp_test_quote('100001', 'BUY', 1000000), '0.4300 430000.00', 'BUY at unlimited size');
    PERFORM pp_test_eq(pp_test_quote('100001', 'SELL', 0.0001), '0.4100 0.00', 'SELL 0.0001');
    -- an empty stored book is no depth: the top of book is used
    UPDATE market_tokens SET bids = '[]', asks = '[]' WHERE token_id = '100001';
    PERFORM pp_test_eq(pp_test_quote('100001', 'BUY', 12.3456), '0.4300 5.31', 'BUY with empty depth');
    PERFORM pp_test_eq(pp_test_quote('100001', 'SELL', 12.3456), '0.4100 5.06', 'SELL with empty depth');
    -- a BUY reads only the asks, a SELL only the bids
    UPDATE market_tokens SET bids = '[["0.30", "1000"]]', asks = NULL WHERE token_id = '100001';
    PERFORM pp_test_eq(pp_test_quote('100001', 'BUY', 12.3456), '0.4300 5.31', 'BUY ignores bid depth');
    UPDATE market_tokens SET bids = NULL, asks = '[["0.60", "1000"]]' WHERE token_id = '100001';
    PERFORM pp_test_eq(pp_test_quote('100001', 'SELL', 12.3456), '0.4100 5.06', 'SELL ignores ask depth');
END
$$;

-- test: with depth a BUY walks the asks cheapest first and a SELL the bids highest first, whatever order they are stored in; VWAP at 4 dp, notional = round(sum of price x size, 2)
DO $$
BEGIN
    PERFORM pp_test_token('100002', 0.42, 0.43);
    UPDATE market_tokens
    SET asks = '[["0.45", "100"], ["0.43", "50"], ["0.44", "30"]]',
        bids = '[["0.40", "100"], ["0.42", "50"], ["0.41", "30"]]'
    WHERE token_id = '100002';
    -- BUY 100.5: 50 x 0.43 + 30 x 0.44 + 20.5 x 0.45 = 43.925 -> 43.93; 43.925 / 100.5 = 0.43706.. -> 0.4371
    PERFORM pp_test_eq(pp_test_quote('100002', 'BUY', 100.5), '0.4371 43.93', 'BUY 100.5');
    -- SELL 100.5: 50 x 0.42 + 30 x 0.41 + 20.5 x 0.40 = 41.50; 41.5 / 100.5 = 0.41293.. -> 0.4129
    PERFORM pp_test_eq(pp_test_quote('100002', 'SELL', 100.5), '0.4129 41.50', 'SELL 100.5');
    -- within the best level: its price
    PERFORM pp_test_eq(pp_test_quote('100002', 'BUY', 40), '0.4300 17.20', 'BUY 40 in the best level');
    PERFORM pp_test_eq(pp_test_quote('100002', 'SELL', 50), '0.4200 21.00', 'SELL 50 = the best level');
    -- the whole book: 21.50 + 13.20 + 45.00 = 79.70; 79.7 / 180 = 0.44277.. -> 0.4428
    PERFORM pp_test_eq(pp_test_quote('100002', 'BUY', 180), '0.4428 79.70', 'BUY the whole book');
    -- depth, not the top of book, decides once it is stored
    UPDATE market_tokens SET best_ask = 0.30, best_bid = 0.90 WHERE token_id = '100002';
    PERFORM pp_test_eq(pp_test_quote('100002', 'BUY', 100.5), '0.4371 43.93', 'BUY 100.5, other best_ask');
    PERFORM pp_test_eq(pp_test_quote('100002', 'SELL', 100.5), '0.4129 41.50', 'SELL 100.5, other best_bid');
    -- levels given as JSON numbers work the same
    UPDATE market_tokens SET asks = '[[0.45, 100], [0.43, 50], [0.44, 30]]' WHERE token_id = '100002';
    PERFORM pp_test_eq(pp_test_quote('100002', 'BUY', 100.5), '0.4371 43.93', 'BUY 100.5, numeric levels');
END
$$;

-- test: not enough depth for the whole quantity quotes NULL (fill-or-kill), for both sides
DO $$
BEGIN
    PERFORM pp_test_token('100003', 0.42, 0.43);
    UPDATE market_tokens
    SET asks = '[["0.45", "100"], ["0.43", "50"], ["0.44", "30"]]',
        bids = '[["0.40", "100"], ["0.42", "50"], ["0.41", "30"]]'
    WHERE token_id = '100003';
    PERFORM pp_test_eq(pp_test_quote('100003', 'BUY', 180.0001), 'NULL NULL', 'BUY 0.0001 over the depth');
    PERFORM pp_test_eq(pp_test_quote('100003', 'SELL', 180.0001), 'NULL NULL', 'SELL 0.0001 over the depth');
    PERFORM pp_test_eq(pp_test_quote('100003', 'BUY', 1000), 'NULL NULL', 'BUY far over the depth');
    PERFORM pp_test_eq(pp_test_quote('100003', 'SELL', 180), '0.4072 73.30', 'SELL exactly the depth');
END
$$;

-- test: a worst-price cap excludes the levels beyond it and quotes NULL when the rest is not enough; without depth it caps the top of book (the cap itself is allowed)
DO $$
BEGIN
    PERFORM pp_test_token('100004', 0.42, 0.43);
    UPDATE market_tokens
    SET asks = '[["0.45", "100"], ["0.43", "50"], ["0.44", "30"]]',
        bids = '[["0.40", "100"], ["0.42", "50"], ["0.41", "30"]]'
    WHERE token_id = '100004';
    -- BUY capped at 0.44: 80 shares available, 50 x 0.43 + 30 x 0.44 = 34.70, 0.43375 -> 0.4338
    PERFORM pp_test_eq(pp_test_quote('100004', 'BUY', 80, 0.44), '0.4338 34.70', 'BUY 80 worst 0.44');
    PERFORM pp_test_eq(pp_test_quote('100004', 'BUY', 80.0001, 0.44), 'NULL NULL', 'BUY 80.0001 worst 0.44');
    PERFORM pp_test_eq(pp_test_quote('100004', 'BUY', 100.5, 0.44), 'NULL NULL', 'BUY 100.5 worst 0.44');
    PERFORM pp_test_eq(pp_test_quote('100004', 'BUY', 100.5, 0.45), '0.4371 43.93', 'BUY 100.5 worst 0.45');
    PERFORM pp_test_eq(pp_test_quote('100004', 'BUY', 10, 0.42), 'NULL NULL', 'BUY under the best ask');
    -- SELL floored at 0.41: 80 shares, 50 x 0.42 + 30 x 0.41 = 33.30, 0.41625 -> 0.4163
    PERFORM pp_test_eq(pp_test_quote('100004', 'SELL', 80, 0.41), '0.4163 33.30', 'SELL 80 worst 0.41');
    PERFORM pp_test_eq(pp_test_quote('100004', 'SELL', 80.0001, 0.41), 'NULL NULL', 'SELL 80.0001 worst 0.41');
    PERFORM pp_test_eq(pp_test_quote('100004', 'SELL', 10, 0.43), 'NULL NULL', 'SELL above the best bid');
    -- top of book
    UPDATE market_tokens SET asks = NULL, bids = NULL WHERE token_id = '100004';
    PERFORM pp_test_eq(pp_test_quote('100004', 'BUY', 10, 0.43), '0.4300 4.30', 'BUY worst = ask');
    PERFORM pp_test_eq(pp_test_quote('100004', 'BUY', 10, 0.4299), 'NULL NULL', 'BUY worst under ask');
    PERFORM pp_test_eq(pp_test_quote('100004', 'SELL', 10, 0.42), '0.4200 4.20', 'SELL worst = bid');
    PERFORM pp_test_eq(pp_test_quote('100004', 'SELL', 10, 0.4201), 'NULL NULL', 'SELL worst over bid');
END
$$;

-- test: no executable price (NULL, 0 or 1 on the side, or depth without a usable level) quotes NULL
DO $$
BEGIN
    PERFORM pp_test_token('100005');                      -- no prices at all
    PERFORM pp_test_eq(pp_test_quote('100005', 'BUY', 1), 'NULL NULL', 'BUY without an ask');
    PERFORM pp_test_eq(pp_test_quote('100005', 'SELL', 1), 'NULL NULL', 'SELL without a bid');
    PERFORM pp_test_token('100006', 0, 0);                -- both sides 0
    PERFORM pp_test_eq(pp_test_quote('100006', 'BUY', 1), 'NULL NULL', 'BUY at ask 0');
    PERFORM pp_test_eq(pp_test_quote('100006', 'SELL', 1), 'NULL NULL', 'SELL at bid 0');
    PERFORM pp_test_token('100007', 1, 1);                -- both sides 1
    PERFORM pp_test_eq(pp_test_quote('100007', 'BUY', 1), 'NULL NULL', 'BUY at ask 1');
    PERFORM pp_test_eq(pp_test_quote('100007', 'SELL', 1), 'NULL NULL', 'SELL at bid 1');
    PERFORM pp_test_token('100008', NULL, 0.5);           -- one side only
    PERFORM pp_test_eq(pp_test_quote('100008', 'BUY', 1), '0.5000 0.50', 'BUY with an ask only');
    PERFORM pp_test_eq(pp_test_quote('100008', 'SELL', 1), 'NULL NULL', 'SELL with an ask only');
    -- depth whose levels are all unusable (price 0 or 1, size 0 or negative)
    PERFORM pp_test_token('100009', 0.4, 0.5);
    UPDATE market_tokens
    SET asks = '[["0", "100"], ["1", "100"], ["0.5", "0"], ["0.6", "-5"]]',
        bids = '[["0", "100"], ["1", "100"], ["0.4", "0"]]'
    WHERE token_id = '100009';
    PERFORM pp_test_eq(pp_test_quote('100009', 'BUY', 1), 'NULL NULL', 'BUY on unusable depth');
    PERFORM pp_test_eq(pp_test_quote('100009', 'SELL', 1), 'NULL NULL', 'SELL on unusable depth');
END
$$;

-- test: unusable depth levels (price 0 or 1, size 0 or negative) are skipped and the usable ones are walked
DO $$
BEGIN
    PERFORM pp_test_token('100010', 0.4, 0.5);
    UPDATE market_tokens
    SET asks = '[["0", "100"], ["1", "100"], ["0.5", "0"], ["0.55", "-5"], ["0.6", "10"], ["0.7", "10"]]',
        bids = '[["1", "100"], ["0", "100"], ["0.45", "0"], ["0.3", "10"], ["0.2", "10"]]'
    WHERE token_id = '100010';
    -- 10 x 0.6 + 5 x 0.7 = 9.50 / 15 = 0.63333.. -> 0.6333
    PERFORM pp_test_eq(pp_test_quote('100010', 'BUY', 15), '0.6333 9.50', 'BUY 15');
    -- 10 x 0.3 + 5 x 0.2 = 4.00 / 15 = 0.26666.. -> 0.2667
    PERFORM pp_test_eq(pp_test_quote('100010', 'SELL', 15), '0.2667 4.00', 'SELL 15');
    PERFORM pp_test_eq(pp_test_quote('100010', 'BUY', 20.0001), 'NULL NULL', 'BUY beyond the usable depth');
END
$$;
