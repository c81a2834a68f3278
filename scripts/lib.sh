# Shared helpers for scripts/test.sh and scripts/demo.sh. Source it from the repository root.
# shellcheck shell=bash

VENV=${STRIDELINE_VENV:-.venv}
PYTHON=${PYTHON:-python3}

say() { printf 'strideline: %s\n' "$*" >&2; }
warn() { printf 'strideline: WARNING: %s\n' "$*" >&2; }
die() { printf 'strideline: ERROR: %s\n' "$*" >&2; exit 1; }

is_root() { [ "$(id -u)" -eq 0 ]; }
can_apt() { is_root && command -v apt-get >/dev/null 2>&1; }

# apt-get install, quietly; the output is shown only when it fails. `apt-get update` runs once.
_APT_UPDATED=false
apt_install() {
  can_apt || return 1
  local log
  log=$(mktemp)
  export DEBIAN_FRONTEND=noninteractive
  if ! $_APT_UPDATED; then
    say "apt-get update"
    if ! apt-get update >"$log" 2>&1; then
      tail -n 20 "$log" >&2; rm -f "$log"; return 1
    fi
    _APT_UPDATED=true
  fi
  say "apt-get install -y $*"
  if ! apt-get install -y "$@" >"$log" 2>&1; then
    tail -n 20 "$log" >&2; rm -f "$log"; return 1
  fi
  rm -f "$log"
}

# Create the virtualenv if it is missing (on Debian's own python3, venv may need python3.X-venv).
# An existing venv is never deleted: if its interpreter does not run, say so and stop.
ensure_venv() {
  if [ -e "$VENV/bin/python" ]; then
    "$VENV/bin/python" -c '' 2>/dev/null \
      || die "$VENV/bin/python does not run (moved interpreter? other user?); remove $VENV to recreate it"
    return 0
  fi
  [ ! -e "$VENV" ] || die "$VENV exists but has no bin/python; remove it to recreate it"
  command -v "$PYTHON" >/dev/null 2>&1 || die "$PYTHON not found: Strideline needs Python 3.11+"
  "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || die "Strideline needs Python 3.11+, $PYTHON is $("$PYTHON" -V 2>&1)"
  say "creating $VENV with $("$PYTHON" -V 2>&1)"
  if ! "$PYTHON" -m venv "$VENV" 2>/dev/null; then
    rm -rf "$VENV" # the half-made venv this run just created
    local version
    version=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    can_apt || die "'$PYTHON -m venv' failed: install python$version-venv (as root: apt-get install python$version-venv)"
    apt_install "python$version-venv" || apt_install python3-venv \
      || die "could not install python$version-venv"
    "$PYTHON" -m venv "$VENV" || die "'$PYTHON -m venv $VENV' failed"
  fi
}

# pip install -e ".$1" (e.g. "[test]" or ""), skipped when pyproject.toml and the interpreter are
# unchanged since the last successful install (a stamp file in the venv, keyed on their hash) and
# the modules named in $2 (space-separated) still import.
ensure_installed() {
  local extras=$1 label=${1:-runtime} stamp want modules
  read -ra modules <<<"${2:-}"
  label=${label//[^a-z]/}
  stamp="$VENV/.strideline-installed-$label"
  want=$({ cat pyproject.toml; "$VENV/bin/python" -VV; } | sha256sum | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$VENV/bin/strideline" ] \
    && "$VENV/bin/python" -c "import importlib, importlib.metadata as m, sys
m.version('strideline')
for name in sys.argv[1:]: importlib.import_module(name)" "${modules[@]}" 2>/dev/null; then
    return 0
  fi
  say "installing strideline$extras into $VENV"
  # One install at a time: two pips writing one venv at once can leave it broken.
  local lock=()
  command -v flock >/dev/null 2>&1 && lock=(flock "$VENV/.strideline-install.lock")
  "${lock[@]}" "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e ".$extras" \
    || die "pip install -e \".$extras\" failed (see the output above)"
  printf '%s\n' "$want" >"$stamp"
  if [ -n "$extras" ]; then  # the extras include the runtime: no reinstall for the demo
    printf '%s\n' "$want" >"$VENV/.strideline-installed-runtime"
  fi
}
