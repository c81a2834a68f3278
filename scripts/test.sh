#!/usr/bin/env bash
# The test command: `bash scripts/test.sh [pytest arguments...]`.
#
# On a fresh Debian machine with Python 3.11+ it creates .venv, installs Strideline with its test
# extras, makes sure a real Redis and PostgreSQL are running where the tests look for them
# (STRIDELINE_TEST_REDIS_URL, default redis://127.0.0.1:6379/15; STRIDELINE_TEST_POSTGRES_URL,
# default postgresql://postgres@127.0.0.1:5432/test with trust auth), installing them with apt when
# root, and runs pytest. A server that cannot be started is a warning, not an error: its tests skip
# locally and fail under CI=true. Idempotent; a second run skips what is already done.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=SCRIPTDIR/lib.sh
source scripts/lib.sh

IN_CI=false
case "${CI:-}" in 1 | [Tt]rue | TRUE | [Yy]es) IN_CI=true ;; esac
WAIT_SECONDS=${STRIDELINE_SERVER_WAIT:-30}

unavailable() {
  if $IN_CI; then
    warn "$1 - CI=true, so the tests that need it will FAIL"
  else
    warn "$1 - the tests that need it will be skipped"
  fi
}

# "host port name user" of a URL (name: the path without its slash).
url_parts() {
  "$VENV/bin/python" - "$1" "$2" <<'PY'
import sys
from urllib.parse import urlparse
url = urlparse(sys.argv[1])
print(url.hostname or "127.0.0.1", url.port or sys.argv[2], url.path.lstrip("/") or "-",
      url.username or "-")
PY
}

is_local() { case "$1" in 127.0.0.1 | localhost | ::1) return 0 ;; *) return 1 ;; esac; }

# Poll until host:port accepts a TCP connection, for at most $3 seconds (0: check once).
port_open() {
  "$VENV/bin/python" - "$1" "$2" "${3:-0}" <<'PY'
import socket, sys, time
host, port, wait = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
deadline = time.monotonic() + wait
while True:
    try:
        socket.create_connection((host, port), timeout=1).close()
        sys.exit(0)
    except OSError:
        if time.monotonic() >= deadline:
            sys.exit(1)
        time.sleep(0.2)
PY
}

# --- Redis --------------------------------------------------------------------------------------

ensure_redis() {
  local host port _
  read -r host port _ _ < <(url_parts "${STRIDELINE_TEST_REDIS_URL:-redis://127.0.0.1:6379/15}" 6379)
  port_open "$host" "$port" && return 0
  if ! is_local "$host"; then
    unavailable "Redis is not reachable at $host:$port (not this machine: not starting one)"
    return 0
  fi
  if ! command -v redis-server >/dev/null 2>&1; then
    if ! can_apt; then
      unavailable "Redis is not reachable at $host:$port and redis-server is not installed (root and apt-get are needed to install it)"
      return 0
    fi
    apt_install redis-server || { unavailable "could not install redis-server"; return 0; }
    port_open "$host" "$port" 2 && return 0 # the package may have started one
  fi
  say "starting redis-server on $host:$port"
  if ! redis-server --daemonize yes --bind "$host" --port "$port" --save "" --appendonly no \
    >/dev/null; then
    unavailable "redis-server failed to start on $host:$port"
    return 0
  fi
  port_open "$host" "$port" "$WAIT_SECONDS" \
    || unavailable "redis-server started but $host:$port did not answer within ${WAIT_SECONDS}s"
}

# --- PostgreSQL ---------------------------------------------------------------------------------

PG_HOST=127.0.0.1 PG_PORT=5432 PG_DB=test PG_USER=postgres

read_postgres_url() {
  read -r PG_HOST PG_PORT PG_DB PG_USER < <(
    url_parts "${STRIDELINE_TEST_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/test}" 5432
  )
  [ "$PG_DB" != - ] || PG_DB="test"
  [ "$PG_USER" != - ] || PG_USER="postgres"
}

pg() {
  PGCONNECT_TIMEOUT=5 psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -w -X -q -v ON_ERROR_STOP=1 \
    -d postgres "$@"
}

# The newest installed server version (/usr/lib/postgresql/<version>/bin/postgres).
server_version() {
  local bin
  for bin in /usr/lib/postgresql/*/bin/postgres; do
    [ -x "$bin" ] && basename "$(dirname "$(dirname "$bin")")"
  done | sort -V | tail -n 1
}

# "version name" of the local cluster configured for $PG_PORT, if any.
local_cluster() {
  command -v pg_lsclusters >/dev/null 2>&1 || return 0
  pg_lsclusters -h 2>/dev/null | awk -v p="$PG_PORT" '$3 == p { print $1, $2; exit }' || true
}

start_postgres() {
  if [ -z "$(server_version)" ] || ! command -v pg_ctlcluster >/dev/null 2>&1; then
    if ! can_apt; then
      unavailable "PostgreSQL is not reachable at $PG_HOST:$PG_PORT and is not installed (root and apt-get are needed to install it)"
      return 1
    fi
    apt_install postgresql || { unavailable "could not install postgresql"; return 1; }
    port_open "$PG_HOST" "$PG_PORT" 2 && return 0 # the package may have started its cluster
  fi
  if ! is_root; then
    unavailable "PostgreSQL is not reachable at $PG_HOST:$PG_PORT; start it (as root: pg_ctlcluster --skip-systemctl-redirect <version> main start)"
    return 1
  fi
  local cluster version name
  cluster=$(local_cluster)
  if [ -z "$cluster" ]; then
    version=$(server_version)
    name=main
    [ ! -e "/etc/postgresql/$version/main" ] || name="strideline_$PG_PORT"
    say "creating PostgreSQL cluster $version/$name on port $PG_PORT"
    pg_createcluster -p "$PG_PORT" "$version" "$name" >/dev/null \
      || { unavailable "pg_createcluster -p $PG_PORT $version $name failed"; return 1; }
    cluster="$version $name"
  fi
  read -r version name <<<"$cluster"
  say "starting PostgreSQL cluster $version/$name"
  pg_ctlcluster --skip-systemctl-redirect "$version" "$name" start \
    || { unavailable "pg_ctlcluster $version $name start failed"; return 1; }
  port_open "$PG_HOST" "$PG_PORT" "$WAIT_SECONDS" \
    || { unavailable "PostgreSQL started but $PG_HOST:$PG_PORT did not answer within ${WAIT_SECONDS}s"; return 1; }
}

# Trust TCP logins as $PG_USER from this machine. Only done (as root, on a local cluster) when a
# password-less login fails: this is a test server. The lines are marked; a second run adds none.
trust_local_logins() {
  local cluster version name hba tmp
  cluster=$(local_cluster)
  is_root && [ -n "$cluster" ] || return 1
  read -r version name <<<"$cluster"
  hba="/etc/postgresql/$version/$name/pg_hba.conf"
  [ -f "$hba" ] || return 1
  if ! grep -q "added by strideline scripts/test.sh for $PG_USER" "$hba"; then
    say "allowing trust auth for $PG_USER from localhost in $hba"
    tmp=$(mktemp)
    {
      echo "# test server: trust local TCP logins (added by strideline scripts/test.sh for $PG_USER)"
      echo "host    all    $PG_USER    127.0.0.1/32    trust"
      echo "host    all    $PG_USER    ::1/128         trust"
      cat "$hba"
    } >"$tmp"
    cat "$tmp" >"$hba" # rewrite in place: keeps the file's owner and mode
    rm -f "$tmp"
  fi
  pg_ctlcluster --skip-systemctl-redirect "$version" "$name" reload
}

# Poll (bounded) until a password-less login works: a server just started may still be recovering.
can_log_in() {
  local deadline=$((SECONDS + ${1:-0}))
  until pg -Atc 'SELECT 1' >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.5
  done
}

database_exists() {
  [ "$(pg -At -v db="$PG_DB" <<<"SELECT 1 FROM pg_database WHERE datname = :'db'" 2>/dev/null)" = 1 ]
}

ensure_postgres() {
  read_postgres_url
  if ! port_open "$PG_HOST" "$PG_PORT"; then
    if ! is_local "$PG_HOST"; then
      unavailable "PostgreSQL is not reachable at $PG_HOST:$PG_PORT (not this machine: not starting one)"
      return 0
    fi
    start_postgres || return 0
  fi
  if ! command -v psql >/dev/null 2>&1 && can_apt; then
    apt_install postgresql-client || true
  fi
  if ! command -v psql >/dev/null 2>&1; then
    warn "psql is not installed: cannot check that database '$PG_DB' exists on $PG_HOST:$PG_PORT"
    return 0
  fi
  if ! can_log_in 0 && ! { is_local "$PG_HOST" && trust_local_logins && can_log_in "$WAIT_SECONDS"; }; then
    unavailable "cannot log in to PostgreSQL at $PG_HOST:$PG_PORT as $PG_USER without a password (trust auth is needed)"
    return 0
  fi
  database_exists && return 0
  say "creating database '$PG_DB'"
  # A concurrent run may have created it meanwhile: that is fine too.
  pg -v db="$PG_DB" <<<'CREATE DATABASE :"db"' 2>/dev/null || database_exists \
    || unavailable "could not create database '$PG_DB' on $PG_HOST:$PG_PORT"
}

# --- promtool (tests/ops checks the alert rules and the Prometheus config) --------------------

ensure_promtool() {
  command -v promtool >/dev/null 2>&1 && return 0
  if ! can_apt; then
    unavailable "promtool is not installed (Debian package prometheus; root and apt-get are needed to install it)"
    return 0
  fi
  apt_install --no-install-recommends prometheus || unavailable "could not install the prometheus package (promtool)"
}

# amtool checks ops/alertmanager.yml (tests/ops); the package's service is not started by tests.
ensure_amtool() {
  command -v amtool >/dev/null 2>&1 && return 0
  if ! can_apt; then
    unavailable "amtool is not installed (Debian package prometheus-alertmanager; root and apt-get are needed to install it)"
    return 0
  fi
  apt_install --no-install-recommends prometheus-alertmanager \
    || unavailable "could not install the prometheus-alertmanager package (amtool)"
}

# --- chromium (tests/replay renders the analysts' reports in a headless browser) ----------------

ensure_chromium() {
  command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 && return 0
  if ! can_apt; then
    unavailable "chromium is not installed (Debian package chromium; root and apt-get are needed to install it)"
    return 0
  fi
  apt_install --no-install-recommends chromium || unavailable "could not install the chromium package"
}

# --- run ----------------------------------------------------------------------------------------

ensure_venv
ensure_installed "[test]" "pytest hypothesis"
ensure_redis
ensure_postgres
ensure_promtool
ensure_chromium
ensure_amtool

status=0
"$VENV/bin/python" -m pytest "$@" || status=$?
if [ "$status" -eq 5 ] && $IN_CI; then
  printf 'strideline: ERROR: pytest collected no tests; under CI that is a failure\n' >&2
  exit 1
fi
exit "$status"
