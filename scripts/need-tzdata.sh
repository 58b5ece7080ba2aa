#!/usr/bin/env bash
# The wallet core reads time zones from the system's IANA database
# (wallet-core/src/time.rs), as phones provide theirs. Debian's `tzdata`
# package is that database here; install it when it is missing.
set -euo pipefail
dir=${TZDIR:-/usr/share/zoneinfo}
[ -f "$dir/Europe/Paris" ] && exit 0
echo "need-tzdata: no time-zone database in $dir; installing Debian's tzdata package" >&2
if [ "$(id -u)" -ne 0 ]; then
    echo "need-tzdata: need root to install tzdata (or install it, or set TZDIR)" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends tzdata >&2
