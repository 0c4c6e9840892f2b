#!/usr/bin/env bash
# Installs the Debian packages the test suite needs when missing: headless Chromium and its driver (browser tests),
# libpq-dev (CKAN's psycopg2 builds from source for the ckanext-dcat harvest test).
# Needs root (or sudo); CI runs as root.
set -euo pipefail
packages=(chromium chromium-driver libpq-dev)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing ${missing[*]} from Debian" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
