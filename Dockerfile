# lbkitd image, built from this repository:
#   docker build -t lbkitd:0.1.0 .          (or: buildah bud -t lbkitd:0.1.0 .)
# Any Debian-based Node image (Node 20.19+, 22 or 24) serves as the base; NODE_IMAGE selects it,
# e.g. a locally built one where no registry is reachable (see docs/install-kubernetes.md).
ARG NODE_IMAGE=node:22-bookworm-slim

# ---- build: compile TypeScript and the AF_PACKET addon, then drop dev dependencies ----
FROM ${NODE_IMAGE} AS build
# where the Node headers are (official node images: /usr/local; Debian's nodejs: /usr), so node-gyp
# compiles the addon offline instead of downloading headers
ARG NODEDIR=/usr/local
ENV npm_config_nodedir=${NODEDIR}
# a build host behind a TLS-intercepting proxy: its CA bundle, bind-mounted for the build only
# (scripts/build-image.sh does this); ARG, not ENV, so it never reaches the runtime image
ARG NODE_EXTRA_CA_CERTS
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json tsconfig.base.json tsconfig.json ./
COPY packages/ packages/
# npm ci runs afpacket's install script (node-gyp-build: prebuilt binary if shipped, else compile)
RUN npm ci --no-audit --no-fund \
 && npx tsc -b packages/kube-adapter \
 && node packages/kube-adapter/scripts/bundle-lbkitd.mjs \
 && npm prune --omit=dev --no-audit --no-fund \
 && rm -rf packages/*/src packages/*/test packages/*/bench packages/kube-adapter/scripts packages/*/tsconfig*.json packages/*/dist/.tsbuildinfo \
      packages/afpacket/build/Release/obj.target packages/afpacket/build/Release/.deps \
 && node packages/kube-adapter/dist/bundle/lbkitd.js --version

# ---- runtime: Node, the compiled packages and production dependencies only ----
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/packages ./packages
# Node >= 22.1 keeps the compiled code of the modules it loads in NODE_COMPILE_CACHE (one directory per
# uid); filled here by what `lbkitd --version` loads (most of the daemon) for uid 0 (the speaker) and
# 65534 (the controller), so a pod's start skips compiling them (the chart's root filesystem is
# read-only: nothing is added at run time). Node 20 ignores the variable.
ENV NODE_COMPILE_CACHE=/app/.node-compile-cache
RUN mkdir -m 1777 /app/.node-compile-cache \
 && node /app/packages/kube-adapter/dist/bundle/lbkitd.js --version \
 && setpriv --reuid 65534 --regid 65534 --clear-groups node /app/packages/kube-adapter/dist/bundle/lbkitd.js --version \
 && chmod 0755 /app/.node-compile-cache
# non-root by default (controller); the speaker's pod spec runs it as uid 0 with only NET_RAW added
USER 65534:65534
EXPOSE 7472 7946/tcp 7946/udp
ENTRYPOINT ["node", "/app/packages/kube-adapter/dist/bundle/lbkitd.js"]
CMD ["--help"]
