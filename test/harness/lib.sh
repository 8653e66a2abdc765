#!/usr/bin/env bash
# Shell functions shared by test/harness/run-integration, scripts/test and
# scripts/stack: dependencies, build, a private PostgreSQL cluster, tenant
# keys, a private httpd, and the error-log check.
#
# Source it:   . test/harness/lib.sh
# or run one function directly:   test/harness/lib.sh pp_free_port
#
# The functions do not depend on `set -e` (they check and `return 1` with a
# message on stderr) but are written to be safe under `set -euo pipefail`.
#
# Environment knobs (all optional):
#   PP_PG_BIN      PostgreSQL server binaries   (/usr/lib/postgresql/15/bin)
#   PP_APACHE_BIN  the httpd binary             (/usr/sbin/apache2)
#   PP_MODULE_PATH the module pp_httpd_conf loads (the build's .libs/mod_polypartner.so)

PP_REPO_ROOT="${PP_REPO_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
PP_PG_BIN="${PP_PG_BIN:-/usr/lib/postgresql/15/bin}"
PP_APACHE_BIN="${PP_APACHE_BIN:-/usr/sbin/apache2}"
export PP_REPO_ROOT PP_PG_BIN PP_APACHE_BIN

PP_DEPS=(apache2 apache2-dev libaprutil1-dbd-pgsql libjson-c-dev libcurl4-openssl-dev
         libssl-dev libpq-dev check autoconf automake libtool pkg-config make gcc
         postgresql-15 postgresql-client-15 curl ca-certificates
         python3 python3-websockets python3-aiosmtpd libwebsockets-dev
         libidn2-dev libunistring-dev tzdata
         clang-14 libclang-rt-14-dev llvm-14 libasan8 libubsan1  # fuzzing, sanitizer runs
         clang-format-14  # tools/check-format
         wrk linux-perf)  # bench/api (load, CPU profile)

pp_log() { printf 'harness: %s\n' "$*" >&2; }
pp_err() { printf 'harness: ERROR: %s\n' "$*" >&2; }

pp__is_root() { [[ "$(id -u)" -eq 0 ]]; }

# Run a command as USER (root uses runuser; anyone else can only be himself).
# Runs from / so that tools running as postgres don't trip over an
# inaccessible working directory.
pp__run_as() {
    local user="$1"; shift
    if [[ "$(id -un)" == "$user" ]]; then
        (cd / && "$@")
    elif pp__is_root; then
        (cd / && runuser -u "$user" -- "$@")
    else
        pp_err "cannot run '$1' as user '$user' (not root)"
        return 1
    fi
}

# ---------------------------------------------------------------------------
# Dependencies and build
# ---------------------------------------------------------------------------

# Installs the Debian packages needed to build, run and test. No apt at all
# when everything is already installed.
pp_install_deps() {
    local missing=() pkg status
    for pkg in "${PP_DEPS[@]}"; do
        status="$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)"
        [[ "$status" == "installed" ]] || missing+=("$pkg")
    done
    if [[ ${#missing[@]} -eq 0 ]]; then
        return 0
    fi
    local sudo=()
    if ! pp__is_root; then
        if ! command -v sudo >/dev/null 2>&1; then
            pp_err "missing packages (${missing[*]}) and not root and no sudo: install them first"
            return 1
        fi
        sudo=(sudo)
    fi
    pp_log "installing: ${missing[*]}"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update </dev/null \
        || { pp_err "apt-get update failed"; return 1; }
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        "${missing[@]}" </dev/null \
        || { pp_err "apt-get install failed"; return 1; }
}

# The test command's configuration: everything built, warnings are errors.
PP_CONFIGURE_ARGS=(--enable-werror)

# Builds in the repository root: autoreconf/configure only when needed, and
# again when the tree was configured with other options (e.g. by hand).
pp_build() {
    (
        cd "$PP_REPO_ROOT" || exit 1
        if [[ ! -x configure || configure -ot configure.ac || configure -ot Makefile.am ]]; then
            pp_log "autoreconf -fi"
            autoreconf -fi || { pp_err "autoreconf failed"; exit 1; }
        fi
        # config.status --config prints plain words as they are, space-separated
        local have
        have="$(./config.status --config 2>/dev/null || true)"
        if [[ ! -f Makefile || Makefile -ot configure || ! -f config.status \
              || "$have" != "${PP_CONFIGURE_ARGS[*]}" ]]; then
            pp_log "./configure ${PP_CONFIGURE_ARGS[*]}"
            ./configure "${PP_CONFIGURE_ARGS[@]}" </dev/null \
                || { pp_err "configure failed (see config.log)"; exit 1; }
        fi
        make -j2 || { pp_err "make failed"; exit 1; }
    )
}

# ---------------------------------------------------------------------------
# Ports
# ---------------------------------------------------------------------------

# True when something listens on TCP PORT (any local address).
pp_port_in_use() {
    local port="$1"
    if command -v ss >/dev/null 2>&1; then
        [[ -n "$(ss -Hltn "sport = :$port" 2>/dev/null)" ]] && return 0
    fi
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    return 1
}

# Prints a free TCP port on 127.0.0.1 in 20000-60000.
pp_free_port() {
    local i port
    for ((i = 0; i < 200; i++)); do
        port=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40001 ))
        if ! pp_port_in_use "$port"; then
            echo "$port"
            return 0
        fi
    done
    pp_err "no free port found"
    return 1
}

# ---------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------

# The data directory pp_pg_start uses for DIR (recorded in DIR/pgdata.path).
pp__pg_data_of() {
    local dir="$1"
    if [[ -s "$dir/pgdata.path" ]]; then
        cat "$dir/pgdata.path"
    else
        echo "$dir/pgdata"
    fi
}

# Writes DIR/pg-start, DIR/pg-stop and DIR/pg-restart.
# shellcheck disable=SC2016  # the single-quoted parts are code for those scripts
pp__pg_write_scripts() {
    local dir="$1" data="$2" log="$3" sock="$4"
    local common
    common="$(cat <<EOF
#!/usr/bin/env bash
# Generated by test/harness/lib.sh (pp_pg_start).
set -euo pipefail
pg_ctl=$(printf '%q' "$PP_PG_BIN/pg_ctl")
data=$(printf '%q' "$data")
log=$(printf '%q' "$log")
sock=$(printf '%q' "$sock")
owner="\$(stat -c %U "\$data")"
as_owner() {
    if [[ "\$(id -un)" == "\$owner" ]]; then (cd / && "\$@")
    elif [[ "\$(id -u)" -eq 0 ]]; then (cd / && runuser -u "\$owner" -- "\$@")
    else echo "\$0: must run as \$owner or root" >&2; exit 1; fi
}
running() { as_owner "\$pg_ctl" -D "\$data" status >/dev/null 2>&1; }
ensure_sock() {
    if [[ ! -d "\$sock" ]]; then
        mkdir -p "\$sock" && chmod 755 "\$sock"
        [[ "\$(id -un)" == "\$owner" ]] || chown "\$owner" "\$sock"
    fi
}
EOF
)"
    printf '%s\n%s\n' "$common" \
        'if running; then echo "pg-start: already running"; exit 0; fi
ensure_sock
as_owner "$pg_ctl" -D "$data" -l "$log" -w -t 60 start >/dev/null' > "$dir/pg-start"
    printf '%s\n%s\n' "$common" \
        'if ! running; then echo "pg-stop: not running"; exit 0; fi
as_owner "$pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null' > "$dir/pg-stop"
    printf '%s\n%s\n' "$common" \
        'ensure_sock
if running; then
    as_owner "$pg_ctl" -D "$data" -l "$log" -m fast -w -t 60 restart >/dev/null
else
    as_owner "$pg_ctl" -D "$data" -l "$log" -w -t 60 start >/dev/null
fi' > "$dir/pg-restart"
    chmod 755 "$dir/pg-start" "$dir/pg-stop" "$dir/pg-restart"
}

# pp_pg_start DIR [PORT]
# Starts a private cluster (initdb only when DIR's cluster does not exist yet)
# on 127.0.0.1:PORT (default: a free random port) with its socket in a fresh
# directory under /tmp, and creates the database polypartner.
# Exports PP_PG_SOCKET_DIR PP_PG_PORT PP_PG_DATA PP_PG_LOG DATABASE_URL
#         PP_PG_START PP_PG_STOP PP_PG_RESTART.
pp_pg_start() {
    local dir="${1:?usage: pp_pg_start DIR [PORT]}" want_port="${2:-}"
    local owner data log sock port attempt
    mkdir -p "$dir" || return 1
    dir="$(cd "$dir" && pwd)"
    if pp__is_root; then owner=postgres; else owner="$(id -un)"; fi

    if [[ ! -x "$PP_PG_BIN/initdb" ]]; then
        pp_err "$PP_PG_BIN/initdb not found (install postgresql-15)"
        return 1
    fi

    # Where the data lives: DIR/pgdata, unless postgres cannot reach DIR.
    data="$(pp__pg_data_of "$dir")"
    if [[ ! -f "$data/PG_VERSION" ]]; then
        if pp__is_root && ! runuser -u postgres -- test -x "$dir" 2>/dev/null; then
            local alt
            alt="$(mktemp -d /var/tmp/pp-pg.XXXXXX)" || return 1
            chmod 755 "$alt"
            data="$alt/pgdata"
            pp_log "note: postgres cannot reach $dir; the cluster lives in $data"
        else
            data="$dir/pgdata"
        fi
        echo "$data" > "$dir/pgdata.path"
        mkdir -p "$data" || return 1
        if pp__is_root; then chown postgres:postgres "$data" || return 1; fi
        chmod 700 "$data"
        if ! pp__run_as "$owner" "$PP_PG_BIN/initdb" -D "$data" -A trust -U postgres -E UTF8 \
                --locale=C --no-sync --no-instructions > "$dir/initdb.log" 2>&1; then
            cat "$dir/initdb.log" >&2
            pp_err "initdb failed"
            return 1
        fi
        echo "include_if_exists 'polypartner.conf'" >> "$data/postgresql.conf"
    else
        echo "$data" > "$dir/pgdata.path"
        # A stale server from an earlier run of this DIR (e.g. killed stack)?
        if pp__run_as "$owner" "$PP_PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
            pp_err "a PostgreSQL server is already running on $data (stop it with: $dir/pg-stop)"
            return 1
        fi
    fi

    # The log must be reachable by postgres: next to the data directory.
    log="$(dirname "$data")/postgres.log"
    touch "$log" && chmod 644 "$log"
    if pp__is_root; then chown postgres:postgres "$log"; fi
    if [[ "$log" != "$dir/postgres.log" ]]; then ln -sfn "$log" "$dir/postgres.log"; fi

    # Fresh socket directory (old one from an unclean stop: remove).
    if [[ -s "$dir/pgsocket" ]]; then rm -rf -- "$(cat "$dir/pgsocket")"; fi
    sock="$(mktemp -d /tmp/pp-pgsock.XXXXXX)" || return 1
    chmod 755 "$sock"
    if pp__is_root; then chown postgres:postgres "$sock"; fi
    echo "$sock" > "$dir/pgsocket"

    pp__pg_write_scripts "$dir" "$data" "$log" "$sock"

    for attempt in 1 2 3 4 5; do
        if [[ -n "$want_port" ]]; then
            port="$want_port"
            if pp_port_in_use "$port"; then
                pp_err "port $port is already in use: cannot start PostgreSQL there"
                return 1
            fi
        else
            port="$(pp_free_port)" || return 1
        fi
        cat > "$data/polypartner.conf" <<EOF
# Written by test/harness/lib.sh (pp_pg_start) at every start.
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$sock'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 450
log_line_prefix = '%m [%p] %q%u@%d %a: '
EOF
        if pp__is_root; then chown postgres:postgres "$data/polypartner.conf"; fi
        if "$dir/pg-start" >/dev/null; then
            break
        fi
        if [[ -n "$want_port" || $attempt -eq 5 ]]; then
            tail -n 30 "$log" >&2
            pp_err "PostgreSQL failed to start (log: $log)"
            return 1
        fi
        pp_log "PostgreSQL did not start on port $port, retrying with another port"
    done

    export PP_PG_SOCKET_DIR="$sock" PP_PG_PORT="$port" PP_PG_DATA="$data" PP_PG_LOG="$log"
    export DATABASE_URL="postgresql://postgres@127.0.0.1:$port/polypartner"
    export PP_PG_START="$dir/pg-start" PP_PG_STOP="$dir/pg-stop" PP_PG_RESTART="$dir/pg-restart"

    local psql=("$PP_PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$sock" -p "$port" -U postgres)
    [[ -x "${psql[0]}" ]] || psql[0]=psql
    local exists
    exists="$("${psql[@]}" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'polypartner'")" \
        || { pp_err "cannot connect to PostgreSQL"; return 1; }
    if [[ "$exists" != 1 ]]; then
        "${psql[@]}" -d postgres -c 'CREATE DATABASE polypartner' \
            || { pp_err "CREATE DATABASE polypartner failed"; return 1; }
    fi
    pp_log "PostgreSQL up: port $port, socket $sock, data $data"
}

# pp_pg_stop DIR [--purge]
# Stops the cluster (fast, then immediate, then SIGKILL) and removes its
# socket directory. --purge also deletes the data directory. Safe to call
# twice and after a half-failed start.
pp_pg_stop() {
    local dir="${1:?usage: pp_pg_stop DIR [--purge]}" purge="${2:-}"
    local data owner pid
    [[ -d "$dir" ]] || return 0
    data="$(pp__pg_data_of "$dir")"
    if [[ -f "$data/postmaster.pid" ]]; then
        owner="$(stat -c %U "$data")"
        if pp__run_as "$owner" "$PP_PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
            if ! pp__run_as "$owner" "$PP_PG_BIN/pg_ctl" -D "$data" -m fast -w -t 30 stop >/dev/null 2>&1; then
                pp_log "fast shutdown failed, trying immediate"
                pp__run_as "$owner" "$PP_PG_BIN/pg_ctl" -D "$data" -m immediate -w -t 15 stop >/dev/null 2>&1 || true
            fi
        fi
        pid="$(head -n 1 "$data/postmaster.pid" 2>/dev/null || true)"
        if [[ "$pid" =~ ^[0-9]+$ ]] && [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == postgres ]]; then
            pp_log "PostgreSQL (pid $pid) still running: SIGKILL"
            kill -9 "$pid" 2>/dev/null || true
        fi
    fi
    if [[ -s "$dir/pgsocket" ]]; then
        rm -rf -- "$(cat "$dir/pgsocket")"
        rm -f -- "$dir/pgsocket"
    fi
    if [[ "$purge" == --purge ]]; then
        if [[ "$data" != "$dir/pgdata" && "$data" == /var/tmp/pp-pg.*/pgdata ]]; then
            rm -rf -- "$(dirname "$data")"
        else
            rm -rf -- "$data"
        fi
        rm -f -- "$dir/pgdata.path"
    fi
    return 0
}

# Applies sql/migrations to $DATABASE_URL.
pp_migrate() {
    [[ -n "${DATABASE_URL:-}" ]] || { pp_err "pp_migrate: DATABASE_URL is not set"; return 1; }
    "$PP_REPO_ROOT/sql/migrate" "$DATABASE_URL"
}

# ---------------------------------------------------------------------------
# Tenants and keys
# ---------------------------------------------------------------------------

PP_FULL_PERMS="users:write accounts:read accounts:write"
PP_KEY_VARS=(DEMO_KEY DEMO_READONLY_KEY DEMO_WRITEONLY_KEY OTHER_KEY PENDING_KEY)

# Runs polypartner-keygen with PERMS; sets the caller's variables named $1
# (secret key) and ${1}_HASH (sha256:<hex>).
pp__keygen() {
    local var="$1"; shift
    local out key line hash
    out="$("$PP_REPO_ROOT/polypartner-keygen" "$@" </dev/null)" \
        || { pp_err "polypartner-keygen failed"; return 1; }
    key="$(sed -n 1p <<<"$out")"
    line="$(sed -n 2p <<<"$out")"
    hash="$(awk '{print $2}' <<<"$line")"
    if [[ -z "$key" || "$key" =~ [[:space:]\'] || ! "$line" =~ ^PolyPartnerTenantKey\ sha256:[0-9a-f]{64}( |$) ]]; then
        pp_err "unexpected polypartner-keygen output: $out"
        return 1
    fi
    printf -v "$var" '%s' "$key"
    printf -v "${var}_HASH" '%s' "$hash"
}

# pp_tenants_conf DIR [KEYS_ENV]
# Writes DIR/tenants.conf (tenants demo, other and the disabled pending) with
# the keys in KEYS_ENV (default DIR/keys.env), generating and saving them when
# that file does not exist yet. Exports DEMO_KEY DEMO_READONLY_KEY DEMO_WRITEONLY_KEY OTHER_KEY
# PENDING_KEY and PP_TENANTS_CONF. The redirect allowlists are what
# test/integration/it_login.c attacks and relies on: keep them in step.
pp_tenants_conf() {
    local dir="${1:?usage: pp_tenants_conf DIR [KEYS_ENV]}"
    mkdir -p "$dir" || return 1
    dir="$(cd "$dir" && pwd)"
    local keys="${2:-$dir/keys.env}"
    local v h ok=0
    # Globals on purpose: they are exported below (the *_HASH ones are not).
    DEMO_KEY='' DEMO_KEY_HASH='' DEMO_READONLY_KEY='' DEMO_READONLY_KEY_HASH=''
    DEMO_WRITEONLY_KEY='' DEMO_WRITEONLY_KEY_HASH=''
    OTHER_KEY='' OTHER_KEY_HASH='' PENDING_KEY='' PENDING_KEY_HASH=''

    if [[ -f "$keys" ]]; then
        if grep -qvE "^([A-Z_]+='[^']*')?$" "$keys"; then
            pp_log "note: $keys is malformed, generating new keys"
        else
            # shellcheck disable=SC1090
            . "$keys"
            ok=1
            for v in "${PP_KEY_VARS[@]}"; do
                h="${v}_HASH"
                if [[ -z "${!v}" || ! "${!h}" =~ ^sha256:[0-9a-f]{64}$ ]]; then ok=0; fi
            done
            [[ $ok -eq 1 ]] || pp_log "note: $keys is incomplete, generating new keys"
        fi
    fi
    if [[ $ok -eq 0 ]]; then
        if [[ ! -x "$PP_REPO_ROOT/polypartner-keygen" ]]; then
            pp_err "$PP_REPO_ROOT/polypartner-keygen not built"
            return 1
        fi
        # shellcheck disable=SC2086
        {
            pp__keygen DEMO_KEY $PP_FULL_PERMS &&
            pp__keygen DEMO_READONLY_KEY accounts:read &&
            pp__keygen DEMO_WRITEONLY_KEY users:write accounts:write &&
            pp__keygen OTHER_KEY $PP_FULL_PERMS &&
            pp__keygen PENDING_KEY $PP_FULL_PERMS
        } || return 1
        (
            umask 077
            for v in "${PP_KEY_VARS[@]}"; do
                h="${v}_HASH"
                printf "%s='%s'\n%s='%s'\n" "$v" "${!v}" "$h" "${!h}"
            done > "$keys"
        ) || return 1
    fi

    cat > "$dir/tenants.conf" <<EOF
# Generated by test/harness/lib.sh (pp_tenants_conf); keys in $keys
<PolyPartnerTenant demo>
    PolyPartnerTenantKey $DEMO_KEY_HASH $PP_FULL_PERMS orders:write
    PolyPartnerTenantKey $DEMO_READONLY_KEY_HASH accounts:read
    PolyPartnerTenantKey $DEMO_WRITEONLY_KEY_HASH users:write accounts:write
    PolyPartnerTenantRedirectAllow https://demo.example.com/
    PolyPartnerTenantRedirectAllow https://firm.example.com/app
    PolyPartnerTenantRedirectAllow http://127.0.0.1:18080/dev/
</PolyPartnerTenant>
<PolyPartnerTenant other>
    PolyPartnerTenantKey $OTHER_KEY_HASH $PP_FULL_PERMS
    PolyPartnerTenantRedirectAllow https://other.example.com/
    PolyPartnerTenantDayBoundary 17:00 America/New_York
</PolyPartnerTenant>
<PolyPartnerTenant pending>
    PolyPartnerTenantEnabled Off
    PolyPartnerTenantKey $PENDING_KEY_HASH $PP_FULL_PERMS
</PolyPartnerTenant>
EOF
    chmod 644 "$dir/tenants.conf"
    export DEMO_KEY DEMO_READONLY_KEY DEMO_WRITEONLY_KEY OTHER_KEY PENDING_KEY
    export PP_TENANTS_CONF="$dir/tenants.conf"
}

# ---------------------------------------------------------------------------
# httpd
# ---------------------------------------------------------------------------

pp__sed_escape() { printf '%s' "$1" | sed -e 's/[\\|&]/\\&/g'; }

# pp_httpd_conf DIR MPM [PORT] [TENANTS_CONF]
# Renders conf/httpd.conf.in into DIR/httpd.conf with ServerRoot DIR.
# PORT defaults to a free random port, TENANTS_CONF to DIR/tenants.conf.
# Needs pp_pg_start's exports. Exports POLYPARTNER_URL PP_HTTPD_CONF
# PP_HTTPD_ERROR_LOG PP_MODULE_PATH PP_HTTPD_ROOT PP_HTTPD_PORT PP_MPM.
pp_httpd_conf() {
    local dir="${1:?usage: pp_httpd_conf DIR MPM [PORT] [TENANTS_CONF]}" mpm="${2:?MPM (event|prefork)}"
    local port="${3:-}" tenants="${4:-}"
    local dbd_max run_user run_group module
    case "$mpm" in
        event) dbd_max=96 ;;
        prefork) dbd_max=1 ;;
        *) pp_err "unknown MPM '$mpm' (event|prefork)"; return 1 ;;
    esac
    if [[ -z "${PP_PG_SOCKET_DIR:-}" || -z "${PP_PG_PORT:-}" ]]; then
        pp_err "pp_httpd_conf: run pp_pg_start first (PP_PG_SOCKET_DIR/PP_PG_PORT unset)"
        return 1
    fi
    mkdir -p "$dir" || return 1
    dir="$(cd "$dir" && pwd)"
    chmod 755 "$dir"
    tenants="${tenants:-$dir/tenants.conf}"
    if [[ -z "$port" ]]; then
        port="$(pp_free_port)" || return 1
    fi
    if pp__is_root; then
        run_user=www-data; run_group=www-data
    else
        run_user="$(id -un)"; run_group="$(id -gn)"
    fi
    module="${PP_MODULE_PATH:-$PP_REPO_ROOT/.libs/mod_polypartner.so}"
    [[ -f "$module" ]] || pp_log "warning: $module does not exist (not built yet?)"
    if pp__is_root && ! runuser -u "$run_user" -- test -x "$dir" 2>/dev/null; then
        pp_log "warning: $run_user cannot reach $dir"
    fi

    # The cursor secret is kept with the server root, so cursors survive
    # restarts of a persistent stack; PP_MAX_PRICE_AGE (seconds, 0 = never
    # stale) defaults to the module's 60.
    local secret
    if [[ -s "$dir/cursor.secret" ]]; then
        secret="$(cat "$dir/cursor.secret")"
    else
        secret="$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')"
        (umask 077 && printf '%s\n' "$secret" > "$dir/cursor.secret") || return 1
    fi
    # Login-link email: PP_SMTP_PORT names a loopback SMTP sink (see
    # pp_smtp_sink_start); without it login links answer 502 (not configured).
    {
        echo "# Generated by pp_httpd_conf"
        if [[ -n "${PP_SMTP_PORT:-}" ]]; then
            echo "PolyPartnerMailRelay smtp://127.0.0.1:$PP_SMTP_PORT"
            echo "PolyPartnerMailStartTLS none"
            echo "PolyPartnerMailFrom \"PolyPartner <noreply@polypartner.test>\""
            echo "PolyPartnerMailTimeout 5"
        fi
    } > "$dir/mail.conf" || return 1
    local -a subst=(SERVER_ROOT "$dir" PORT "$port" MPM "$mpm" MODULE_PATH "$module"
                    PG_SOCKET_DIR "$PP_PG_SOCKET_DIR" PG_PORT "$PP_PG_PORT"
                    PG_DATABASE polypartner PG_USER postgres
                    RUN_USER "$run_user" RUN_GROUP "$run_group"
                    TENANTS_CONF "$tenants" DBD_MAX "$dbd_max"
                    CURSOR_SECRET "$secret" MAX_PRICE_AGE "${PP_MAX_PRICE_AGE:-60}"
                    HTDOCS "$PP_REPO_ROOT/htdocs" MAIL_CONF "$dir/mail.conf")
    local -a sedargs=()
    local i
    for ((i = 0; i < ${#subst[@]}; i += 2)); do
        sedargs+=(-e "s|@${subst[i]}@|$(pp__sed_escape "${subst[i+1]}")|g")
    done
    sed "${sedargs[@]}" "$PP_REPO_ROOT/conf/httpd.conf.in" > "$dir/httpd.conf.tmp" || return 1
    if grep -nE '@[A-Z][A-Z_]*@' "$dir/httpd.conf.tmp" >&2; then
        pp_err "conf/httpd.conf.in has placeholders pp_httpd_conf does not know (above)"
        rm -f "$dir/httpd.conf.tmp"
        return 1
    fi
    mv "$dir/httpd.conf.tmp" "$dir/httpd.conf"
    chmod 644 "$dir/httpd.conf"

    export POLYPARTNER_URL="http://127.0.0.1:$port"
    export PP_HTTPD_CONF="$dir/httpd.conf" PP_HTTPD_ERROR_LOG="$dir/error.log"
    export PP_HTTPD_ROOT="$dir" PP_HTTPD_PORT="$port" PP_MPM="$mpm" PP_MODULE_PATH="$module"
    export PP_CURSOR_SECRET="$secret"
}

pp__conf_value() {  # pp__conf_value CONF DIRECTIVE -> first argument, unquoted
    sed -n -E "s/^[[:space:]]*$2[[:space:]]+\"?([^\"]*)\"?[[:space:]]*$/\1/p" "$1" | head -n 1
}

pp__httpd_pid() {  # prints the live httpd parent pid of CONF, if any
    local pidfile pid comm
    pidfile="$(pp__conf_value "$1" PidFile)"
    [[ -n "$pidfile" && -s "$pidfile" ]] || return 1
    pid="$(head -n 1 "$pidfile")"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    comm="$(cat "/proc/$pid/comm" 2>/dev/null)" || return 1
    [[ "$comm" == apache2 || "$comm" == httpd ]] || return 1
    echo "$pid"
}

# ---------------------------------------------------------------------------
# SMTP sink (login-link email)
# ---------------------------------------------------------------------------

# Starts test/smtp_sink/smtp_sink.py on a free loopback port, writing each
# message to DIR (MAIL_DIR). Exports MAIL_DIR, PP_SMTP_PORT and PP_SMTP_PID
# (pp_httpd_conf then configures the module to send through it).
pp_smtp_sink_start() {
    local dir="${1:?usage: pp_smtp_sink_start MAIL_DIR}" ready i
    mkdir -p "$dir" || return 1
    dir="$(cd "$dir" && pwd)"
    ready="$dir/.sink.json"
    rm -f "$ready"
    /usr/bin/python3 "$PP_REPO_ROOT/test/smtp_sink/smtp_sink.py" --dir "$dir" \
        --ready-file "$ready" >"$dir/.sink.log" 2>&1 9>&- &
    PP_SMTP_PID=$!
    for i in $(seq 100); do
        [[ -s "$ready" ]] && break
        if ! kill -0 "$PP_SMTP_PID" 2>/dev/null; then
            pp_err "the SMTP sink did not start: $(cat "$dir/.sink.log")"
            return 1
        fi
        sleep 0.1
    done
    [[ -s "$ready" ]] || { pp_err "the SMTP sink did not start in 10 s"; return 1; }
    PP_SMTP_PORT="$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["port"])' "$ready")"
    MAIL_DIR="$dir"
    export MAIL_DIR PP_SMTP_PORT PP_SMTP_PID
    pp_log "SMTP sink up: 127.0.0.1:$PP_SMTP_PORT, mail in $MAIL_DIR"
}

pp_smtp_sink_stop() {
    local pid="${PP_SMTP_PID:-}" i
    [[ -n "$pid" ]] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for i in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    PP_SMTP_PID=""
}


# pp_httpd_start [CONF]  (default $PP_HTTPD_CONF)
# Checks the config, starts httpd in the background and waits (max ~10 s)
# until its port answers HTTP; on failure prints the error log.
pp_httpd_start() {
    local conf="${1:-${PP_HTTPD_CONF:-}}"
    [[ -f "$conf" ]] || { pp_err "pp_httpd_start: no config '$conf' (run pp_httpd_conf)"; return 1; }
    local listen port errlog out i pid
    listen="$(pp__conf_value "$conf" Listen)"
    port="${listen##*:}"
    errlog="$(pp__conf_value "$conf" ErrorLog)"
    if pid="$(pp__httpd_pid "$conf")"; then
        pp_err "httpd for $conf is already running (pid $pid)"
        return 1
    fi
    if pp_port_in_use "$port"; then
        pp_err "port $port is already in use: cannot start httpd there"
        return 1
    fi
    if ! out="$("$PP_APACHE_BIN" -t -f "$conf" 2>&1)"; then
        printf '%s\n' "$out" >&2
        pp_err "httpd config test failed for $conf"
        return 1
    fi
    if ! "$PP_APACHE_BIN" -f "$conf" -k start </dev/null; then
        [[ -f "$errlog" ]] && tail -n 50 "$errlog" >&2
        pp_err "httpd failed to start"
        return 1
    fi
    for ((i = 0; i < 100; i++)); do
        # OPTIONS * is answered by the core without an access check, so the
        # probe leaves no error (authz) line in the log.
        if command -v curl >/dev/null 2>&1; then
            curl -s -o /dev/null --max-time 1 -X OPTIONS --request-target '*' \
                "http://127.0.0.1:$port" && break
        else
            (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
        fi
        sleep 0.1
    done
    if [[ $i -ge 100 ]] || ! pid="$(pp__httpd_pid "$conf")"; then
        pp_err "httpd did not answer on port $port within 10 s; error log $errlog:"
        [[ -f "$errlog" ]] && tail -n 50 "$errlog" >&2
        pp_httpd_stop "$conf"
        return 1
    fi
    pp_log "httpd up: http://127.0.0.1:$port (pid $pid, $conf)"
}

# pp_httpd_stop [CONF]  (default $PP_HTTPD_CONF). Safe to call twice.
pp_httpd_stop() {
    local conf="${1:-${PP_HTTPD_CONF:-}}"
    [[ -n "$conf" && -f "$conf" ]] || return 0
    local pid pgid i
    pid="$(pp__httpd_pid "$conf")" || return 0
    pgid="$(ps -o pgid= -p "$pid" 2>/dev/null | tr -d ' ')"
    "$PP_APACHE_BIN" -f "$conf" -k stop </dev/null >/dev/null 2>&1 || kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 150; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        pp_log "httpd (pid $pid) did not stop: SIGKILL"
        kill -9 "$pid" 2>/dev/null || true
    fi
    # Leftover children in httpd's own process group (it is a session leader).
    if [[ "$pgid" == "$pid" ]]; then
        for ((i = 0; i < 50; i++)); do
            pgrep -g "$pgid" >/dev/null 2>&1 || break
            sleep 0.1
        done
        if pgrep -g "$pgid" >/dev/null 2>&1; then
            pp_log "httpd children still running: SIGKILL"
            kill -9 -- "-$pgid" 2>/dev/null || true
        fi
    fi
    local pidfile
    pidfile="$(pp__conf_value "$conf" PidFile)"
    [[ -n "$pidfile" ]] && rm -f -- "$pidfile"
    return 0
}

# ---------------------------------------------------------------------------
# Error log check
# ---------------------------------------------------------------------------

# pp_check_error_log LOGFILE [EXPECTED_FILE]
# Fails (and prints them) when LOGFILE has lines at level error, crit, alert
# or emerg, or child crashes (AH00051/AH00052 "exit signal"), that match none
# of the extended regexes in EXPECTED_FILE (one per line, blank lines
# ignored). Lines not in ErrorLogFormat (raw stderr of httpd) are shown as a
# note but do not fail the check.
pp_check_error_log() {
    local log="${1:?usage: pp_check_error_log LOGFILE [EXPECTED_FILE]}" expected="${2:-}"
    if [[ ! -f "$log" ]]; then
        pp_err "error log $log does not exist"
        return 1
    fi
    local tmp rc=0 total unexpected_n raw_n
    tmp="$(mktemp -d)" || return 1
    : > "$tmp/patterns"
    if [[ -n "$expected" && -f "$expected" ]]; then
        grep -v '^[[:space:]]*$' "$expected" > "$tmp/patterns" || true
    fi
    grep -E '^\[[^]]*\] \[[^]:]*:(error|crit|alert|emerg)\]|AH0005[12]: child pid [0-9]+ exit signal' \
        "$log" > "$tmp/bad" || true
    total="$(wc -l < "$tmp/bad")"
    if [[ -s "$tmp/patterns" ]]; then
        local grc=0
        grep -v -E -f "$tmp/patterns" "$tmp/bad" > "$tmp/unexpected" || grc=$?
        if [[ $grc -gt 1 ]]; then
            pp_err "invalid regex in $expected"
            rm -rf "$tmp"
            return 1
        fi
    else
        cp "$tmp/bad" "$tmp/unexpected"
    fi
    unexpected_n="$(wc -l < "$tmp/unexpected")"
    grep -vE '^\[' "$log" > "$tmp/raw" || true
    raw_n="$(wc -l < "$tmp/raw")"
    if [[ "$raw_n" -gt 0 ]]; then
        echo "error log: note: $raw_n line(s) of raw stderr output (not failing):"
        head -n 20 "$tmp/raw" | sed 's/^/    /'
    fi
    echo "error log: $((total - unexpected_n)) expected error line(s) ignored"
    if [[ "$unexpected_n" -gt 0 ]]; then
        echo "error log: $unexpected_n UNEXPECTED error line(s) in $log:"
        sed 's/^/    /' "$tmp/unexpected"
        rc=1
    else
        echo "error log: no unexpected errors"
    fi
    rm -rf "$tmp"
    return "$rc"
}

# Executed rather than sourced: run the named function.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    set -euo pipefail
    if [[ $# -eq 0 || "$(type -t "$1")" != function || "$1" != pp_* ]]; then
        echo "usage: $0 pp_FUNCTION [ARGS...]" >&2
        exit 2
    fi
    "$@"
fi
