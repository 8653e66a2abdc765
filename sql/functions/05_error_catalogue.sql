-- Generated from libpolypartner/pp_error_codes.def by tools/gen-error-catalogue
-- (make error-catalogue): do not edit.
--
-- The error catalogue the C code is built from, for the engine: an endpoint's
-- error is SELECT * FROM pp_error('CODE', message), and its HTTP status comes
-- from here. A code not in the catalogue raises, so a typo fails its test.
-- pp_error is PL/pgSQL, resolved when called: pp_error_json is in 10_json.sql.

CREATE OR REPLACE FUNCTION engine.pp_error_status(p_code text) RETURNS integer
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    CASE p_code
    WHEN 'INVALID_EMAIL'                THEN RETURN 400;
    WHEN 'MISSING_API_KEY'              THEN RETURN 401;
    WHEN 'INVALID_API_KEY'              THEN RETURN 401;
    WHEN 'INSUFFICIENT_PERMISSION'      THEN RETURN 403;
    WHEN 'NOT_FOUND'                    THEN RETURN 404;
    WHEN 'USER_NOT_FOUND'               THEN RETURN 404;
    WHEN 'METHOD_NOT_ALLOWED'           THEN RETURN 405;
    WHEN 'EXTERNAL_ID_CONFLICT'         THEN RETURN 409;
    WHEN 'USER_ALREADY_MAPPED'          THEN RETURN 409;
    WHEN 'PAYLOAD_TOO_LARGE'            THEN RETURN 413;
    WHEN 'VALIDATION_FAILED'            THEN RETURN 422;
    WHEN 'INTERNAL_ERROR'               THEN RETURN 500;
    WHEN 'NOT_IMPLEMENTED'              THEN RETURN 501;
    WHEN 'SERVICE_UNAVAILABLE'          THEN RETURN 503;
    WHEN 'INVALID_STAGE'                THEN RETURN 400;
    WHEN 'INVALID_BALANCE'              THEN RETURN 400;
    WHEN 'BALANCE_OUT_OF_BOUNDS'        THEN RETURN 400;
    WHEN 'ACCOUNT_NOT_FOUND'            THEN RETURN 404;
    WHEN 'INVALID_ACCOUNT_ID'           THEN RETURN 422;
    WHEN 'ACCOUNT_EXTERNAL_ID_CONFLICT' THEN RETURN 409;
    WHEN 'ORDERS_NOT_CANCELLED'         THEN RETURN 409;
    WHEN 'INVALID_ORDER'                THEN RETURN 400;
    WHEN 'ORDER_NOT_FOUND'              THEN RETURN 404;
    WHEN 'INVALID_CURSOR'               THEN RETURN 400;
    WHEN 'BAD_REQUEST'                  THEN RETURN 400;
    WHEN 'FORBIDDEN'                    THEN RETURN 403;
    WHEN 'REQUEST_TIMEOUT'              THEN RETURN 408;
    WHEN 'URI_TOO_LONG'                 THEN RETURN 414;
    WHEN 'HTTP_ERROR'                   THEN RETURN 400;
    WHEN 'REDIRECT_NOT_ALLOWED'         THEN RETURN 400;
    WHEN 'RATE_LIMIT_EXCEEDED'          THEN RETURN 429;
    WHEN 'MAGIC_LINK_FAILED'            THEN RETURN 502;
    WHEN 'SESSION_REQUIRED'             THEN RETURN 401;
    WHEN 'CSRF_REJECTED'                THEN RETURN 403;
    WHEN 'CURSOR_EXPIRED'               THEN RETURN 410;
    WHEN 'INVALID_PRICE'                THEN RETURN 400;
    WHEN 'MARKET_CLOSED'                THEN RETURN 400;
    WHEN 'INSUFFICIENT_FUNDS'           THEN RETURN 400;
    WHEN 'INSUFFICIENT_SHARES'          THEN RETURN 400;
    WHEN 'MARKET_NOT_FOUND'             THEN RETURN 404;
    WHEN 'ACCOUNT_CLOSED'               THEN RETURN 409;
    WHEN 'IDEMPOTENCY_KEY_REUSE'        THEN RETURN 409;
    WHEN 'NO_EXECUTABLE_PRICE'          THEN RETURN 409;
    WHEN 'STALE_QUOTE'                  THEN RETURN 409;
    WHEN 'ORDER_NOT_OPEN'               THEN RETURN 409;
    WHEN 'LOGIN_LINK_INVALID'           THEN RETURN 410;
    ELSE
        RAISE EXCEPTION 'error code % is not in the catalogue (libpolypartner/pp_error_codes.def)',
            coalesce(p_code, 'NULL');
    END CASE;
END
$$;

CREATE OR REPLACE FUNCTION engine.pp_error(p_code text, p_message text)
RETURNS TABLE (status integer, body text)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN QUERY SELECT engine.pp_error_status(p_code), engine.pp_error_json(p_code, p_message);
END
$$;
