-- Demo markets for the local stack, so it can trade before the price feed
-- exists. Goes through the same functions the feed calls; safe to re-run.
-- The ids have Polymarket's shapes (0x + 64 hex condition ids, 77-78 digit
-- token ids) but belong to no real market.
SELECT api.pp_upsert_market(
    '0x1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f801',
    'Will the demo index close above 5,000 on Friday?', 'demo-index-above-5000', false,
    '[{"token_id": "71321045679252212594626385532706912750332728571942532289631379312455583992001", "outcome": "Yes", "tick_size": "0.01"},
      {"token_id": "71321045679252212594626385532706912750332728571942532289631379312455583992002", "outcome": "No", "tick_size": "0.01"}]');
SELECT api.pp_upsert_market(
    '0x1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f802',
    'Will it rain in the demo city tomorrow?', 'demo-rain-tomorrow', false,
    '[{"token_id": "52114319501245915516055106046884209969926127482827954674443846427813813222001", "outcome": "Yes", "tick_size": "0.01"},
      {"token_id": "52114319501245915516055106046884209969926127482827954674443846427813813222002", "outcome": "No", "tick_size": "0.01"}]');
SELECT api.pp_upsert_market(
    '0x1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f803',
    'Will the demo team win the final?', 'demo-team-final', false,
    '[{"token_id": "96832081245321775623590117263411297654419318832465419963257208101823110773001", "outcome": "Yes", "tick_size": "0.001"},
      {"token_id": "96832081245321775623590117263411297654419318832465419963257208101823110773002", "outcome": "No", "tick_size": "0.001"}]');
SELECT api.pp_apply_price_updates('[
  {"token_id": "71321045679252212594626385532706912750332728571942532289631379312455583992001",
   "best_bid": "0.41", "best_ask": "0.43", "last_trade_price": "0.42",
   "bids": [["0.41", "1200"], ["0.40", "3500"]], "asks": [["0.43", "900"], ["0.44", "4000"]]},
  {"token_id": "71321045679252212594626385532706912750332728571942532289631379312455583992002",
   "best_bid": "0.57", "best_ask": "0.59", "last_trade_price": "0.58"},
  {"token_id": "52114319501245915516055106046884209969926127482827954674443846427813813222001",
   "best_bid": "0.62", "best_ask": "0.64", "last_trade_price": "0.63"},
  {"token_id": "52114319501245915516055106046884209969926127482827954674443846427813813222002",
   "best_bid": "0.36", "best_ask": "0.38", "last_trade_price": "0.37"},
  {"token_id": "96832081245321775623590117263411297654419318832465419963257208101823110773001",
   "best_bid": "0.255", "best_ask": "0.262", "last_trade_price": "0.258"},
  {"token_id": "96832081245321775623590117263411297654419318832465419963257208101823110773002",
   "best_bid": "0.738", "best_ask": "0.745", "last_trade_price": "0.741"}
]');
