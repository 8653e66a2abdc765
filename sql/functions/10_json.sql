-- JSON renderings shared by every endpoint: error envelopes, timestamps,
-- money and quantities. Response bodies are built as compact JSON in
-- documented field order, the same form the module uses for the envelopes it
-- writes itself.

CREATE OR REPLACE FUNCTION engine.pp_error_json(p_code text, p_message text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT format('{"error":%s,"message":%s}', to_json(p_code), to_json(p_message))
$$;

CREATE OR REPLACE FUNCTION engine.pp_json_time(t timestamptz) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT to_json(to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))::text
$$;

CREATE OR REPLACE FUNCTION engine.pp_json_time_us(t timestamptz) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT to_json(to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))::text
$$;

-- Money at 2 decimals, quantities and prices at 4, always as JSON strings.
CREATE OR REPLACE FUNCTION engine.pp_json_money(x numeric) RETURNS text
LANGUAGE sql STABLE AS $$ SELECT to_json(round(x, 2)::text)::text $$;

CREATE OR REPLACE FUNCTION engine.pp_json_qty(x numeric) RETURNS text
LANGUAGE sql STABLE AS $$ SELECT to_json(round(x, 4)::text)::text $$;

CREATE OR REPLACE FUNCTION engine.pp_json_opt_qty(x numeric) RETURNS text
LANGUAGE sql STABLE AS $$ SELECT coalesce(pp_json_qty(x), 'null') $$;
