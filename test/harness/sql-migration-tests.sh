# shellcheck shell=bash disable=SC2154  # tdir, psql_bin, passed, failed: the runner's
# Tests of sql/migrate and of the upgrade path, sourced by
# test/harness/run-sql-tests after the SQL test files (same private
# PostgreSQL; each test uses databases of its own). Uses from the runner:
# $tdir, $psql_bin, $DATABASE_URL, and the counters passed/failed.
#
#  * fresh == upgraded: a database migrated from scratch by the current tree
#    and one at migration 006 from the last release's files (commit
#    fd74e3d) upgraded by the current sql/migrate have the same
#    `pg_dump --schema-only` (sorted).
#  * a migration changed after it was applied stops migrate, naming it.
#  * an upgrade from 006 keeps every existing id (test/sql/upgrade/).
#  * re-running migrate is a no-op; a changed function file is re-applied
#    alone; a broken one fails the run and leaves the database as it was.
#  * a login role holding only polypartner_api calls the API and reads no
#    table; one holding only polypartner_feed calls only the feed's functions.

set +e +o pipefail          # every check reports into $mig_out instead
release_commit=fd74e3d     # the last landed release

mig_url() { printf '%s/%s' "${DATABASE_URL%/*}" "$1"; }
mig_sql() {  # mig_sql DB SQL...: one psql session, tuples only
    local db="$1"
    shift
    "$psql_bin" -X -q -At -v ON_ERROR_STOP=1 -d "$(mig_url "$db")" "${@/#/-c}" 2>&1
}
mig_createdb() {  # mig_createdb NAME [TEMPLATE]
    "$psql_bin" -X -q -v ON_ERROR_STOP=1 -d "$DATABASE_URL" \
        -c "CREATE DATABASE $1${2:+ TEMPLATE $2}" >/dev/null
}
mig_dump() {  # the schema, sorted; \restrict lines carry a random key per dump
    local pg_dump="$PP_PG_BIN/pg_dump"
    [[ -x "$pg_dump" ]] || pg_dump=pg_dump
    "$pg_dump" --schema-only -d "$(mig_url "$1")" | grep -v -E '^\\(un)?restrict ' | LC_ALL=C sort
}
mig_result() {  # mig_result NAME OUTFILE: ok when OUTFILE is empty
    if [[ ! -s "$2" ]]; then
        passed=$((passed + 1))
        echo "ok migrations: $1"
    else
        failed=$((failed + 1))
        echo "FAILED migrations: $1"
        head -n 40 "$2" | sed -e 's/^/    /'
    fi
}
mig_have_commit() { git -C "$PP_REPO_ROOT" cat-file -e "$1^{commit}" 2>/dev/null; }

# mig_tree_at COMMIT DIR VERSIONS...: DIR/migrate and DIR/migrations/NNN_*.sql
# of those versions, as they were at COMMIT (no function files).
mig_tree_at() {
    local commit="$1" dir="$2" f
    shift 2
    mkdir -p "$dir/migrations"
    git -C "$PP_REPO_ROOT" show "$commit:sql/migrate" > "$dir/migrate" || return 1
    chmod +x "$dir/migrate"
    for v in "$@"; do
        f="$(git -C "$PP_REPO_ROOT" ls-tree --name-only "$commit" sql/migrations/ | grep "/${v}_")" \
            || return 1
        git -C "$PP_REPO_ROOT" show "$commit:$f" > "$dir/migrations/$(basename "$f")" || return 1
    done
}

mig_out="$tdir/mig.out"
mig_log="$tdir/mig.log"
migrate="$PP_REPO_ROOT/sql/migrate"

# ---- the release at 006 -----------------------------------------------------
release="$tdir/release"
: > "$mig_out"
if mig_have_commit "$release_commit"; then
    mig_tree_at "$release_commit" "$release" 001 002 003 004 005 006 >>"$mig_out" 2>&1 \
        || echo "cannot read the release's files from git commit $release_commit" >> "$mig_out"
    for f in "$release"/migrations/*.sql; do
        cmp -s "$f" "$PP_REPO_ROOT/sql/migrations/$(basename "$f")" \
            || echo "sql/migrations/$(basename "$f") differs from the release's (never edit an applied migration)" >> "$mig_out"
    done
    release_from="git commit $release_commit"
else
    # no history (an exported tree): 001-006 are the release's by rule, and
    # the current migrate without function files brings a database to 006
    mkdir -p "$release/migrations"
    cp "$PP_REPO_ROOT"/sql/migrations/00[1-6]_*.sql "$release/migrations/"
    cp "$migrate" "$release/migrate"
    release_from="the tree's own 001-006 (no git history)"
fi
mig_result "the last release's migrations 001-006 are the tree's ($release_from)" "$mig_out"

# ---- fresh == upgraded from 006 ----------------------------------------------
: > "$mig_out"
mig_createdb mig_fresh
mig_createdb mig_up006
{ "$migrate" "$(mig_url mig_fresh)" && "$release/migrate" "$(mig_url mig_up006)" \
    && "$migrate" "$(mig_url mig_up006)"; } > "$mig_log" 2>&1 || cat "$mig_log" >> "$mig_out"
mig_dump mig_fresh > "$tdir/fresh.schema"
mig_dump mig_up006 > "$tdir/up006.schema"
[[ -s "$tdir/fresh.schema" ]] || echo "empty schema dump" >> "$mig_out"
diff "$tdir/fresh.schema" "$tdir/up006.schema" >> "$mig_out"
mig_result "fresh from the tree and upgraded from 006 ($release_from) have the same schema" "$mig_out"

# ---- an applied migration that changed is refused -------------------------------
: > "$mig_out"
mig_createdb mig_edited mig_fresh
mig_sql mig_edited "UPDATE schema_migrations SET checksum = 'edited' WHERE version = '007'" \
    >> "$mig_out"
if "$migrate" "$(mig_url mig_edited)" > "$mig_log" 2>&1; then
    echo "migrate accepted a database whose 007 was applied from another file" >> "$mig_out"
elif ! grep -q "007_opaque_ids.sql.*was changed after it was applied" "$mig_log"; then
    echo "migrate failed without naming the changed migration: $(cat "$mig_log")" >> "$mig_out"
fi
mig_result "a migration changed after it was applied stops migrate, naming it" "$mig_out"

# ---- an upgrade from 006 keeps every id ----------------------------------------
: > "$mig_out"
mig_createdb mig_ids
{
    "$release/migrate" "$(mig_url mig_ids)" &&
    DATABASE_URL="$(mig_url mig_ids)" run_psql test/sql/000_setup.sql "$mig_log.setup" &&
    DATABASE_URL="$(mig_url mig_ids)" run_psql test/sql/upgrade/006_before.sql "$mig_log.before" &&
    "$migrate" "$(mig_url mig_ids)" &&
    DATABASE_URL="$(mig_url mig_ids)" run_psql test/sql/000_setup.sql "$mig_log.setup" &&
    DATABASE_URL="$(mig_url mig_ids)" run_psql test/sql/upgrade/006_after.sql "$mig_log.after"
} > "$mig_log" 2>&1 || cat "$mig_log" "$mig_log".* >> "$mig_out" 2>/dev/null
mig_result "a database upgraded from 006 keeps every existing id, new ids above the old sequences" "$mig_out"

# ---- re-running is a no-op -----------------------------------------------------
: > "$mig_out"
state="SELECT string_agg(file || ' ' || checksum || ' ' || applied_at, E'\n' ORDER BY file)
       FROM schema_functions"
mig_sql mig_fresh "$state" > "$tdir/state.before"
"$migrate" "$(mig_url mig_fresh)" > "$mig_log" 2>&1 || cat "$mig_log" >> "$mig_out"
[[ "$(cat "$mig_log")" == "sql/migrate: database is at version "* && "$(wc -l < "$mig_log")" -eq 1 ]] \
    || { echo "a second run did something:"; cat "$mig_log"; } >> "$mig_out"
mig_sql mig_fresh "$state" | diff "$tdir/state.before" - >> "$mig_out"
mig_dump mig_fresh | diff "$tdir/fresh.schema" - >> "$mig_out"
mig_result "running migrate again is a no-op" "$mig_out"

# ---- a changed function file is re-applied alone -------------------------------
: > "$mig_out"
cp -r "$PP_REPO_ROOT/sql" "$tdir/changed"
sed -i 's|SELECT to_json(round(x, 2)::text)::text|SELECT /* changed */ to_json(round(x, 2)::text)::text|' \
    "$tdir/changed/functions/10_json.sql"
grep -q 'changed' "$tdir/changed/functions/10_json.sql" || echo "test setup: sed matched nothing" >> "$mig_out"
mig_createdb mig_changed mig_fresh
mig_sql mig_changed "$state" > "$tdir/state.before"
"$tdir/changed/migrate" "$(mig_url mig_changed)" > "$mig_log" 2>&1 || cat "$mig_log" >> "$mig_out"
[[ "$(grep -c '^applied' "$mig_log")" -eq 1 ]] && grep -q '^applied function file 10_json.sql$' "$mig_log" \
    || { echo "want exactly 10_json.sql applied, got:"; cat "$mig_log"; } >> "$mig_out"
[[ "$(mig_sql mig_changed "SELECT prosrc LIKE '%/* changed */%' FROM pg_proc
                           WHERE oid = 'engine.pp_json_money(numeric)'::regprocedure")" == t ]] \
    || echo "engine.pp_json_money was not replaced" >> "$mig_out"
mig_sql mig_changed "$state" | diff "$tdir/state.before" - | grep '^[<>]' | grep -v ' 10_json.sql ' \
    | sed 's/^/other file re-applied: /' >> "$mig_out"
mig_result "changing a function file re-applies only that file" "$mig_out"

# ---- a broken function file changes nothing ------------------------------------
: > "$mig_out"
cp -r "$tdir/changed" "$tdir/broken"
cat >> "$tdir/broken/functions/40_accounts.sql" <<'EOF'

CREATE OR REPLACE FUNCTION engine.pp_broken() RETURNS integer
LANGUAGE sql AS $$ SELECT no_such_column FROM accounts $$;
EOF
echo 'CREATE TABLE migration_probe (id integer);' > "$tdir/broken/migrations/999_probe.sql"
mig_createdb mig_broken mig_fresh
mig_sql mig_broken "$state" > "$tdir/state.before"
if "$tdir/broken/migrate" "$(mig_url mig_broken)" > "$mig_log" 2>&1; then
    { echo "migrate succeeded with a broken function file:"; cat "$mig_log"; } >> "$mig_out"
fi
grep -q '40_accounts.sql.*no_such_column' "$mig_log" \
    || { echo "the failure does not name the file and the error:"; cat "$mig_log"; } >> "$mig_out"
grep -q 'rolled back' "$mig_log" || echo "the failure does not say it rolled back" >> "$mig_out"
mig_sql mig_broken "$state" | diff "$tdir/state.before" - >> "$mig_out"
[[ "$(mig_sql mig_broken "SELECT count(*) FROM pg_proc WHERE proname = 'pp_broken'
                          OR (oid = 'engine.pp_json_money(numeric)'::regprocedure
                              AND prosrc LIKE '%/* changed */%')")" == 0 ]] \
    || echo "a function of the failed run is in the database" >> "$mig_out"
[[ "$(mig_sql mig_broken "SELECT to_regclass('migration_probe') IS NULL
                          AND NOT EXISTS (SELECT 1 FROM schema_migrations WHERE version = '999')")" == t ]] \
    || echo "the migration of the failed run was kept" >> "$mig_out"
mig_dump mig_broken | diff "$tdir/fresh.schema" - >> "$mig_out"
mig_result "a broken function file fails migrate and leaves the previous functions and migrations" "$mig_out"

# ---- login roles -----------------------------------------------------------------
: > "$mig_out"
mig_createdb mig_roles mig_fresh
mig_sql mig_roles "DO \$\$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pp_test_module') THEN
        CREATE ROLE pp_test_module LOGIN IN ROLE polypartner_api;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pp_test_feed') THEN
        CREATE ROLE pp_test_feed LOGIN IN ROLE polypartner_feed;
    END IF;
END \$\$" >> "$mig_out"
as_role() {  # as_role ROLE SQL: one statement as that login user
    "$psql_bin" -X -q -At -v ON_ERROR_STOP=1 \
        -d "$(mig_url mig_roles | sed "s|//[^@]*@|//$1@|")" -c "$2" 2>&1
}
want() {  # want WHAT GOT PATTERN
    [[ "$2" =~ $3 ]] || echo "$1: got '$2', want /$3/" >> "$mig_out"
}
want "module: session user" "$(as_role pp_test_module 'SELECT session_user')" '^pp_test_module$'
want "module: register a trader" "$(as_role pp_test_module \
    "SELECT status FROM api.pp_register_user('roles', 'r-1', 'role@example.com', '{}')")" '^201$'
want "module: read the trader back" "$(as_role pp_test_module \
    "SELECT g.status || ' ' || (g.body::jsonb->>'external_id')
     FROM api.pp_register_user('roles', 'r-1', 'role@example.com', '{}') r,
          api.pp_get_user('roles', (r.body::jsonb->>'user_id')::bigint) g")" '^200 r-1$'
want "module: read a table" "$(as_role pp_test_module 'SELECT count(*) FROM users')" \
    'permission denied for table users'
want "module: write a table" "$(as_role pp_test_module "INSERT INTO tenants VALUES ('x')")" \
    'permission denied for table tenants'
want "module: call an engine helper" "$(as_role pp_test_module \
    "SELECT engine.pp_error_json('A', 'b')")" 'permission denied for schema engine'
want "module: call a feed function" "$(as_role pp_test_module \
    "SELECT api.pp_touch_prices('[]')")" 'permission denied for function pp_touch_prices'
want "feed: markets to watch" "$(as_role pp_test_feed \
    'SELECT count(*) FROM api.pp_unresolved_markets()')" '^0$'
want "feed: touch prices" "$(as_role pp_test_feed "SELECT api.pp_touch_prices('[]')")" '^0$'
want "feed: call a module function" "$(as_role pp_test_feed \
    "SELECT status FROM api.pp_get_user('roles', 1)")" 'permission denied for function pp_get_user'
want "feed: read a table" "$(as_role pp_test_feed 'SELECT count(*) FROM markets')" \
    'permission denied for table markets'
mig_result "login users with only polypartner_api or polypartner_feed call their functions and touch no table" "$mig_out"
set -e -o pipefail
