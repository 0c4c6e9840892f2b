#!/usr/bin/env bash
# Reproduces graph_service/web/static/yasgui/ (the query UI's YASGUI build) from the npm registry.
#
# The UI must never load a CDN at run time, so the pinned release of @zazuko/yasgui is bundled into the package:
# its self-contained UMD build (JavaScript + CSS, every dependency inlined) is copied unchanged, next to a LICENSE
# with the MIT licence of YASGUI and the licence texts of the dependencies the build inlines, and a VERSION file
# with the package version and its registry integrity.
#
# Usage: scripts/bundle-yasgui.sh            (needs node + npm; talks only to the npm registry)
# To upgrade: change YASGUI_VERSION and YASGUI_INTEGRITY (`npm view @zazuko/yasgui@X dist.integrity`), rerun,
# then run tests/test_query_ui*.py.
set -euo pipefail

YASGUI_VERSION="4.6.2"
YASGUI_INTEGRITY="sha512-Zw45KdPoAE1KRaAoxIHdQqeJxvaVG1oQdntw0hy0ktX35Zu8ZccuOLrXCLwR+GU+0xMzLw8Mjw6BkSZV2vUuQw=="

repo_root="$(cd "$(dirname "$0")/.." && pwd)"
destination="$repo_root/graph_service/web/static/yasgui"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"

# 1. The exact release tarball, checked against the integrity pinned above (not only the registry's word).
npm pack --silent "@zazuko/yasgui@$YASGUI_VERSION" >/dev/null
tarball="zazuko-yasgui-$YASGUI_VERSION.tgz"
actual="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
if [ "$actual" != "$YASGUI_INTEGRITY" ]; then
  echo "integrity mismatch for @zazuko/yasgui@$YASGUI_VERSION: got $actual" >&2
  exit 1
fi
mkdir release
tar -xzf "$tarball" -C release

# 2. The dependency tree, only to collect the licences of what the build inlines (no install scripts run).
npm init -y >/dev/null
npm install --silent --no-audit --no-fund --ignore-scripts --omit=dev "./$tarball" >/dev/null

mkdir -p "$destination"
cp release/package/build/yasgui.min.js release/package/build/yasgui.min.css "$destination/"

node - "$destination/LICENSE" <<'NODE'
// Writes LICENSE: YASGUI's MIT licence, then every production dependency with its declared licence and text.
const fs = require("fs");
const path = require("path");
const out = process.argv[2];
const root = path.resolve("node_modules");
const yasgui = JSON.parse(fs.readFileSync(path.join(root, "@zazuko/yasgui/package.json"), "utf8"));
const parts = [
  `${yasgui.name} ${yasgui.version} (${yasgui.homepage})`,
  `Licence declared in its package.json: ${yasgui.license}. Author: ${yasgui.author}; contributors: ` +
    `${(yasgui.contributors || []).map((c) => c.name || c).join(", ")}.`,
  "The npm package ships no licence file; the MIT licence text follows.",
  "",
  "MIT License",
  "",
  "Permission is hereby granted, free of charge, to any person obtaining a copy of this software and associated",
  "documentation files (the \"Software\"), to deal in the Software without restriction, including without limitation",
  "the rights to use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies of the Software, and",
  "to permit persons to whom the Software is furnished to do so, subject to the following conditions:",
  "",
  "The above copyright notice and this permission notice shall be included in all copies or substantial portions",
  "of the Software.",
  "",
  "THE SOFTWARE IS PROVIDED \"AS IS\", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT NOT LIMITED",
  "TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL",
  "THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF",
  "CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER",
  "DEALINGS IN THE SOFTWARE.",
  "",
  "=".repeat(100),
  "Third-party packages inlined in yasgui.min.js / yasgui.min.css (the production dependency tree of the package):",
];
const seen = new Set();
function walk(dir) {
  for (const name of fs.readdirSync(dir).sort()) {
    if (name.startsWith(".")) continue;
    const full = path.join(dir, name);
    if (name.startsWith("@")) { walk(full); continue; }
    const manifest = path.join(full, "package.json");
    if (!fs.existsSync(manifest)) continue;
    const pkg = JSON.parse(fs.readFileSync(manifest, "utf8"));
    const key = `${pkg.name}@${pkg.version}`;
    if (pkg.name !== yasgui.name && !seen.has(key)) {
      seen.add(key);
      const licenceFile = fs.readdirSync(full).find((f) => /^(licen[cs]e|copying)(\.(md|txt))?$/i.test(f));
      const licence = typeof pkg.license === "object" ? pkg.license.type : pkg.license;
      parts.push("", "-".repeat(100), `${key} (${licence || "licence not declared"})`);
      parts.push(licenceFile ? fs.readFileSync(path.join(full, licenceFile), "utf8").trim() : "(no licence file shipped)");
    }
    const nested = path.join(full, "node_modules");
    if (fs.existsSync(nested)) walk(nested);
  }
}
walk(root);
fs.writeFileSync(out, parts.join("\n") + "\n");
NODE

{
  echo "@zazuko/yasgui $YASGUI_VERSION"
  echo "integrity $YASGUI_INTEGRITY"
  (cd "$destination" && sha256sum yasgui.min.js yasgui.min.css)
} >"$destination/VERSION"

echo "bundled @zazuko/yasgui $YASGUI_VERSION into $destination" >&2
