#!/usr/bin/env bash
# Installs what `npm test`, `npm run demo` and `npm run bench` need, idempotently:
#  1. npm dependencies (npm ci) when node_modules is missing or older than package-lock.json;
#  2. when running as root with apt-get: the Debian peers the interop tests run against;
#  3. a TypeScript build (the daemon and the native AF_PACKET addon are run from build output).
set -euo pipefail
cd "$(dirname "$0")/.."
export npm_config_nodedir="${npm_config_nodedir:-/usr}"

stamp=node_modules/.lbkit-installed
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] || [ ! -d node_modules/vitest ]; then
  echo "[bootstrap] npm ci" >&2
  npm ci --no-audit --no-fund >&2
  touch "$stamp"
fi

# Debian packages: binary -> package. Only installed when missing, only as root.
peers=(
  "gobgpd:gobgpd" "bird:bird2" "/usr/lib/frr/bgpd:frr" "tshark:tshark" "tcpdump:tcpdump"
  "arping:arping" "serf:serf" "ip:iproute2" "curl:curl" "ping:iputils-ping"
  "/usr/lib/python3/dist-packages/scapy:python3-scapy" "keepalived:keepalived" "nft:nftables"
)
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && [ "${LBKIT_NO_APT:-}" != 1 ]; then
  missing=()
  for entry in "${peers[@]}"; do
    bin="${entry%%:*}"; pkg="${entry##*:}"
    if [[ "$bin" == /* ]]; then [ -e "$bin" ] || missing+=("$pkg")
    else command -v "$bin" >/dev/null 2>&1 || missing+=("$pkg"); fi
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "[bootstrap] apt-get install ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  fi
  # The frr package starts its own daemons; tests run their own instances in namespaces.
  if command -v systemctl >/dev/null 2>&1; then systemctl stop frr bird 2>/dev/null || true; fi
elif [ "$(id -u)" != 0 ]; then
  echo "[bootstrap] not root: Debian peers not installed; interop tests will skip (and fail under CI=true)" >&2
fi

if [ -f packages/afpacket/binding.gyp ] && [ ! -f packages/afpacket/build/Release/afpacket.node ]; then
  echo "[bootstrap] building the AF_PACKET addon" >&2
  (cd packages/afpacket && npx node-gyp rebuild >&2)
fi

echo "[bootstrap] tsc -b" >&2
npx tsc -b >&2
# the `lbkitd` bin and the image's entrypoint: the compiled daemon bundled (packages/kube-adapter/scripts/bundle-lbkitd.mjs)
echo "[bootstrap] bundle lbkitd" >&2
node packages/kube-adapter/scripts/bundle-lbkitd.mjs >&2
