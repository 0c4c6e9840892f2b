#!/usr/bin/env bash
# Reproduces graph_service/web/static/maps/europe.json (the map of the cases-per-member-state choropleth) from the
# npm registry, once: the service never fetches geometry at run time.
#
# The pinned packages are installed into a throw-away folder (no install scripts run) and
# scripts/build-europe-map.mjs projects Natural Earth's countries (via world-atlas) into compact SVG paths keyed by
# ISO alpha-3. The licence of world-atlas is copied next to the output.
#
# Usage: scripts/build-europe-map.sh      (needs node + npm; talks only to the npm registry)
# Then run tests/test_browse.py (every member state with cases must still have a path).
set -euo pipefail

PACKAGES=(world-atlas@2.0.2 topojson-client@3.1.0 topojson-simplify@3.0.3 d3-geo@3.1.2 i18n-iso-countries@7.14.0 polylabel@2.1.0)

repo_root="$(cd "$(dirname "$0")/.." && pwd)"
destination="$repo_root/graph_service/web/static/maps"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cd "$work"
npm init -y >/dev/null
npm install --silent --no-audit --no-fund --ignore-scripts "${PACKAGES[@]}" >/dev/null
cp "$repo_root/scripts/build-europe-map.mjs" build.mjs  # bare imports resolve from $work/node_modules

mkdir -p "$destination"
node build.mjs "$destination/europe.json"
cp node_modules/world-atlas/LICENSE "$destination/LICENSE-world-atlas"
