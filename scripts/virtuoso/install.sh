#!/usr/bin/env bash
# Install OpenLink Virtuoso (open source edition) from Debian, without prompts and without starting anything.
#
# Installs `virtuoso-opensource-7-bin`: the server (virtuoso-t) and isql-vt of Debian's virtuoso-opensource. The
# full `virtuoso-opensource` package would also create and start a system-wide instance listening on every
# interface with a debconf-asked dba password; this project runs its own instance instead, on 127.0.0.1 only,
# with a generated password (scripts/virtuoso/start.sh).
set -euo pipefail

if command -v virtuoso-t >/dev/null 2>&1; then
    echo "virtuoso already installed: $(command -v virtuoso-t)" >&2
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO -E apt-get install -y -q --no-install-recommends virtuoso-opensource-7-bin
virtuoso-t --help 2>&1 | sed -n 2p >&2
