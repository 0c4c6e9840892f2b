#!/usr/bin/env bash
# Stop the Virtuoso that scripts/virtuoso/start.sh started in DIR (SIGTERM: Virtuoso's quick shutdown; committed
# work is in its transaction log and replayed at the next start).
#
#   scripts/virtuoso/stop.sh [DIR]        # DIR default: $VIRTUOSO_DIR, else var/virtuoso in the project
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
DIR="${1:-${VIRTUOSO_DIR:-$HERE/../../var/virtuoso}}"
DIR="$(cd "$DIR" 2>/dev/null && pwd || echo "$DIR")"
PID="$(cat "$DIR/pid" 2>/dev/null || sed -n 's/^VIRT_PID=//p' "$DIR/db/virtuoso.lck" 2>/dev/null || true)"
# Only a virtuoso-t started with this DIR's configuration (the pid may have been reused since).
if [ -z "$PID" ] || ! grep -qF "$DIR/virtuoso.ini" "/proc/$PID/cmdline" 2>/dev/null; then
    echo "no virtuoso running in $DIR" >&2
    exit 0
fi
kill -TERM "$PID"
for _ in $(seq 1 60); do
    kill -0 "$PID" 2>/dev/null || { rm -f "$DIR/pid"; echo "virtuoso stopped ($DIR)" >&2; exit 0; }
    sleep 0.5
done
echo "virtuoso (pid $PID) did not stop within 30 s; killing it" >&2
kill -KILL "$PID" 2>/dev/null || true
