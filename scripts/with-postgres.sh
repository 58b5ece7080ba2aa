#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL on loopback:
#
#   scripts/with-postgres.sh cargo test -p billfold-server
#
# It installs Debian's `postgresql` package if initdb and pg_ctl are not
# found, creates a cluster in a temporary directory, starts it on a free
# port on 127.0.0.1 (unix socket in the same directory), runs the command
# with BILLFOLD_TEST_POSTGRES_URL set, and stops and removes the cluster on
# exit, whether the command passed, failed or was interrupted. The exit
# status is the command's.
#
# PostgreSQL refuses to run as root, so as root the cluster belongs to the
# `postgres` user (created by the package, or here if missing).
#
# Environment: PG_EXTRA_OPTS adds server options (e.g. "-c fsync=off").
set -euo pipefail

if [ "$#" -eq 0 ]; then
    echo "usage: $0 COMMAND [ARGS...]" >&2
    exit 64
fi

log() { printf 'with-postgres: %s\n' "$*" >&2; }

find_bindir() {
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(readlink -f "$(command -v initdb)")"
        return 0
    fi
    # Debian keeps the server binaries off PATH, per major version.
    local d
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
            echo "$d"
            return 0
        fi
    done
    return 1
}

if ! BINDIR=$(find_bindir); then
    log "PostgreSQL is not installed; installing Debian's postgresql package"
    if [ "$(id -u)" -ne 0 ]; then
        log "need root to install postgresql (or install it and rerun)"
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends postgresql >&2
    BINDIR=$(find_bindir) || { log "initdb still not found after installing"; exit 1; }
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/billfold-pg.XXXXXX")
RUN_AS=()
if [ "$(id -u)" -eq 0 ]; then
    if ! id postgres >/dev/null 2>&1; then
        useradd --system --no-create-home --shell /usr/sbin/nologin postgres
    fi
    chown postgres: "$TMP"
    RUN_AS=(runuser -u postgres --)
fi
chmod 700 "$TMP"
DATA="$TMP/data"
SOCK="$TMP"

STARTED=0
cleanup() {
    local status=$?
    if [ "$STARTED" -eq 1 ]; then
        "${RUN_AS[@]}" "$BINDIR/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$TMP"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"${RUN_AS[@]}" "$BINDIR/initdb" -D "$DATA" -U billfold --auth=trust --encoding=UTF8 --locale=C >"$TMP/initdb.log" 2>&1 \
    || { cat "$TMP/initdb.log" >&2; log "initdb failed"; exit 1; }

port_free() {
    # A refused connection means nothing listens there.
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

PORT=""
for _ in $(seq 1 20); do
    candidate=$((20000 + RANDOM % 40000))
    port_free "$candidate" || continue
    if "${RUN_AS[@]}" "$BINDIR/pg_ctl" -D "$DATA" -l "$TMP/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $candidate -k $SOCK ${PG_EXTRA_OPTS:-}" start >/dev/null; then
        PORT=$candidate
        STARTED=1
        break
    fi
    tail -n 5 "$TMP/server.log" >&2 || true
done
if [ -z "$PORT" ]; then
    log "could not start PostgreSQL"
    exit 1
fi

"$BINDIR/createdb" -h 127.0.0.1 -p "$PORT" -U billfold billfold \
    || { log "createdb failed"; exit 1; }

export BILLFOLD_TEST_POSTGRES_URL="postgres://billfold@127.0.0.1:$PORT/billfold"
log "PostgreSQL $("$BINDIR/pg_ctl" --version | awk '{print $3}') on 127.0.0.1:$PORT"
set +e
"$@"
status=$?
set -e
exit "$status"
