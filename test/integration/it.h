/* Integration tests for mod_polypartner: a small HTTP client over libcurl,
 * libpq helpers for assertions against the database, and the suites.
 *
 * The binary is started by test/harness/run-integration after PostgreSQL
 * and httpd are up; everything it needs arrives in environment variables
 * (POLYPARTNER_URL, DEMO_KEY, DATABASE_URL, PP_PG_STOP, ...). */
#ifndef IT_H
#define IT_H

/* Must precede every system header: each test file includes it.h first. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <check.h>
#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

/* ---- environment --------------------------------------------------------- */

/* The value of a required environment variable; aborts the test if unset. */
const char *it_env(const char *name);
/* The value or NULL, never aborting. */
const char *it_env_opt(const char *name);

/* ---- HTTP client ---------------------------------------------------------- */

typedef struct {
    char *name;
    char *value;
} it_header_t;

typedef struct {
    char *method; /* what was sent, for failure messages */
    char *path;
    long status;   /* 0 when no response arrived */
    int curl_code; /* CURLcode of the transfer */
    char curl_error[256];
    it_header_t *headers; /* of the final response (interim 1xx dropped) */
    size_t nheaders;
    char *body; /* always NUL-terminated, possibly empty */
    size_t body_len;
    json_object *json; /* strictly parsed body, NULL if not JSON */
    double seconds;    /* wall time of the whole exchange */
} it_response_t;

/* headers: NULL-terminated "Name: value" strings (NULL for none); a header
 * with an empty value is sent as an empty header. body: NULL sends none
 * (POST/PATCH then send Content-Length: 0). Never aborts: transport
 * failures show as status 0 with curl_code/curl_error set. Thread-safe. */
it_response_t it_request(const char *method, const char *path, const char *const *headers,
                         const char *body);
/* The same with an explicit body length (the body may hold any bytes but NUL). */
it_response_t it_request_len(const char *method, const char *path, const char *const *headers,
                             const char *body, size_t len);
/* Streams the body from a read callback with Transfer-Encoding: chunked. */
it_response_t it_request_chunked(const char *method, const char *path, const char *const *headers,
                                 const char *body, size_t len);
void it_response_free(it_response_t *r);

/* The first response header with this name (case-insensitive), or NULL. */
const char *it_header(const it_response_t *r, const char *name);

/* Header lines, malloc'd (tests leak them freely; every test is its own process). */
char *it_key_header(const char *key);    /* "X-API-Key: <key>" */
char *it_bearer_header(const char *key); /* "Authorization: Bearer <key>" */

/* A NULL-terminated header list from its arguments. */
#define IT_HEADERS(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* ---- assertions ------------------------------------------------------------ */

/* Each *_problem function returns NULL when all is well, or a malloc'd
 * description of what is wrong (naming the request), for ck_assert_msg. */
char *it_error_problem(const it_response_t *r, long status, const char *code);
char *it_status_problem(const it_response_t *r, long status);
char *it_json_problem(const it_response_t *r); /* Content-Type and X-Request-Id */

/* Status, Content-Type application/json, the body is exactly
 * {"error": CODE, "message": non-empty string}, and X-Request-Id is present. */
#define it_assert_error(resp, st, code)                         \
    do {                                                        \
        char *it_p_ = it_error_problem(&(resp), (st), (code));  \
        ck_assert_msg(it_p_ == NULL, "%s", it_p_ ? it_p_ : ""); \
    } while (0)

/* Status plus Content-Type application/json and X-Request-Id. */
#define it_assert_status(resp, st)                              \
    do {                                                        \
        char *it_p_ = it_status_problem(&(resp), (st));         \
        ck_assert_msg(it_p_ == NULL, "%s", it_p_ ? it_p_ : ""); \
    } while (0)

/* A short description of a response for failure messages (malloc'd). */
char *it_describe(const it_response_t *r);

/* The error message of an error response mentions word (case-insensitive). */
int it_message_mentions(const it_response_t *r, const char *word);

/* ---- JSON helpers ----------------------------------------------------------- */

/* Member of an object or NULL (also NULL when the member is JSON null). */
json_object *it_json_get(json_object *o, const char *key);
/* Has the member (even if null)? */
int it_json_has(json_object *o, const char *key);
/* The string member or NULL if absent or not a string. */
const char *it_json_str(json_object *o, const char *key);
/* The set of member names equals the NULL-terminated list. */
int it_json_keys_are(json_object *o, const char *const *keys);
/* A strict parse of text (NULL if not exactly one JSON value). */
json_object *it_json_parse(const char *text, size_t len);

int it_is_uuid(const char *s);

/* ---- misc -------------------------------------------------------------------- */

/* A unique lowercase token "prefix-<pid>-<time>-<counter>" (malloc'd),
 * distinct across processes, threads and reruns against the same database. */
char *it_unique(const char *prefix);
/* asprintf that aborts on failure. */
char *it_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
double it_now(void); /* monotonic seconds */
void it_sleep_ms(long ms);
/* The whole file (NUL-terminated, malloc'd) or NULL. */
char *it_read_file(const char *path, size_t *len);
/* Runs argv (argv[0] a path) with stdout+stderr captured into *output
 * (malloc'd, may be NULL); returns the exit status, or -1 if it did not exit. */
int it_run(char *const argv[], char **output);
/* Appends one extended regex to PP_EXPECTED_LOG (error-log lines a test
 * provokes on purpose). */
void it_expect_log(const char *regex);
/* Does the `Allow` list (comma separated) contain method? */
int it_allow_has(const char *allow, const char *method);

/* ---- database (libpq on DATABASE_URL) ---------------------------------------- */

/* it_db_scalar(sql, param1, ...): the first column of the first row as text
 * (malloc'd), NULL for SQL NULL or no row; params are text ($1, $2, ...).
 * Aborts the test on connection or query errors. */
char *it_db_scalar_v(const char *const *sql_and_params);
#define it_db_scalar(...) it_db_scalar_v((const char *const[]){ __VA_ARGS__, NULL })
/* The same, parsed as an integer (a count). */
long long it_db_int_v(const char *const *sql_and_params);
#define it_db_int(...) it_db_int_v((const char *const[]){ __VA_ARGS__, NULL })
/* Is PostgreSQL accepting connections on DATABASE_URL? */
int it_db_up(void);

/* ---- API shortcuts -------------------------------------------------------------- */

/* POST /v1/partner/users with key; asserts 201 or 200 and returns user_id;
 * *tenant_user_id (if not NULL) receives a malloc'd copy. */
long long it_register(const char *key, const char *external_id, const char *email,
                      char **tenant_user_id);
/* The registration body {"external_id":..,"email":..} (+ "metadata" if not NULL,
 * inserted verbatim). */
char *it_registration_body(const char *external_id, const char *email, const char *metadata_json);

/* ---- the documented surface ------------------------------------------------------ */

/* A syntactically valid account id that no test ever creates. */
#define IT_SAMPLE_ACCOUNT "0b1d8e2a-3c4f-4a6b-8c8d-9e0f1a2b3c4d"

typedef struct {
    const char *method;
    const char *path;       /* sample ids filled in */
    const char *body;       /* a harmless JSON body for routes that take one */
    const char *permission; /* what the route requires */
} it_route_case_t;

/* All nine documented routes, NULL-method terminated. */
extern const it_route_case_t it_routes[];

/* ---- small shared helpers ------------------------------------------------ */

/* s as a JSON string literal (malloc'd). */
char *it_json_quote(const char *s);
/* Non-zero when s (may be NULL: no) matches the extended regex. */
int it_matches(const char *s, const char *regex);
/* A fresh all-digit token id, unique across processes and runs. */
char *it_token_id(void);
/* v as decimal text (malloc'd). */
char *it_lltext(long long v);

/* ---- login links, the SMTP sink and trader sessions ------------------------ */

/* The messages the SMTP sink ($MAIL_DIR) delivered to address (compared
 * exactly, case-insensitively, with the Delivered-To trace header), oldest
 * first, quoted-printable decoded (soft line breaks and =XX). *n gets their
 * number; the array is NULL-terminated (malloc'd). */
char **it_mail_to(const char *address, size_t *n);
/* The login links ("<base>/auth/login?token=...") in a decoded message, in
 * order, NULL-terminated; *n their number. */
char **it_mail_links(const char *message, size_t *n);
/* The token of a login link (the part after "token="), malloc'd, or NULL. */
char *it_link_token(const char *link);

/* POST /v1/partner/users/{uid}/login-link with key and body (NULL: none). */
it_response_t it_login_link(const char *key, long long uid, const char *body);
/* Requests a link ({"redirect_url": redirect} or {} when NULL), asserts 202
 * and that exactly one more message reached email; returns the token. */
char *it_login_token(const char *key, long long uid, const char *email, const char *redirect);
/* POST /auth/login with the form body token=<token> (URL-encoded), and the
 * extra headers (NULL-terminated, may be NULL). */
it_response_t it_signin_post(const char *token, const char *const *headers);
/* The pp_session value of a Set-Cookie of r (malloc'd), or NULL. */
char *it_session_cookie_value(const it_response_t *r);

typedef struct {
    long long user_id;
    char *email;
    char *secret;      /* the pp_session cookie value */
    char *cookie;      /* "Cookie: pp_session=<secret>" */
    char *csrf;        /* csrf_token of GET /v1/trader/me */
    char *csrf_header; /* "X-CSRF-Token: <csrf>" */
} it_session_t;

/* The whole flow for a registered trader: a link from key's tenant, the
 * email, POST /auth/login (asserting 303 and a cookie) and GET
 * /v1/trader/me for the CSRF token. */
it_session_t it_sign_in(const char *key, long long uid, const char *email);
/* A request as the signed-in trader: the cookie, and X-CSRF-Token on
 * anything but GET/HEAD. */
it_response_t it_trader(const it_session_t *s, const char *method, const char *path,
                        const char *body);

/* ---- suites ----------------------------------------------------------------------- */

Suite *it_auth_suite(void);
Suite *it_routing_suite(void);
Suite *it_bodies_suite(void);
Suite *it_users_suite(void);
Suite *it_accounts_suite(void);
Suite *it_trading_suite(void);
Suite *it_login_suite(void);
Suite *it_signin_suite(void);
Suite *it_hardening_suite(void);
Suite *it_slowdb_suite(void);
Suite *it_database_suite(void);
Suite *it_events_suite(void);

#endif
