#!/usr/bin/env bash
# Builds the Meridian image (the repo's Dockerfile, unchanged) without a Docker engine, with Debian's
# buildah: vfs storage, chroot isolation, host network. Needs root (or a user namespace) and the npm
# registry. When no container registry is reachable (no docker.io), a stand-in for the pinned base
# node:20.20.2-bookworm-slim is made first: debootstrap'd bookworm (minbase) + this host's Node, which must
# be the same 20.20.2, laid out as the official image (/usr/local/bin/node, npm, user node uid 1000).
#   bash infra/docker/build-without-engine.sh [tag]        (default localhost/meridian:local)
#   buildah run --isolation chroot --network host --env MERIDIAN_REGION=us-east … \
#     "$(buildah from localhost/meridian:local)" -- meridian-service region-node
set -euo pipefail
TAG=${1:-localhost/meridian:local}
BASE=docker.io/library/node:20.20.2-bookworm-slim
export STORAGE_DRIVER=vfs BUILDAH_ISOLATION=chroot
cd "$(dirname "$0")/../.."

standin_base() {
  [ "$(node --version)" = v20.20.2 ] || { echo "host node is $(node --version), need v20.20.2" >&2; exit 1; }
  local rootfs
  rootfs=$(mktemp -d /tmp/meridian-base-XXXXXX)
  trap 'rm -rf "$rootfs"' EXIT
  debootstrap --variant=minbase bookworm "$rootfs" http://deb.debian.org/debian
  mkdir -p "$rootfs/usr/local/bin" "$rootfs/usr/local/lib/node_modules"
  cp "$(readlink -f "$(command -v node)")" "$rootfs/usr/local/bin/node"
  cp -a /usr/lib/node_modules/npm /usr/lib/node_modules/corepack "$rootfs/usr/local/lib/node_modules/"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
  ln -sf ../lib/node_modules/corepack/dist/corepack.js "$rootfs/usr/local/bin/corepack"
  chroot "$rootfs" sh -c 'groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node'
  # The build stage reaches the npm registry through whatever TLS interception this host's egress does.
  cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
  rm -rf "$rootfs/var/cache/apt/archives/"*.deb "$rootfs/var/lib/apt/lists/"*
  local ctr
  ctr=$(buildah from scratch)
  buildah copy "$ctr" "$rootfs" / >/dev/null
  buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env NODE_VERSION=20.20.2 --env NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt --cmd node "$ctr"
  buildah commit --rm "$ctr" "$BASE"
}

if ! buildah inspect --type image "$BASE" >/dev/null 2>&1 && ! buildah pull "$BASE" >/dev/null 2>&1; then
  echo "no registry for $BASE: building a stand-in from debootstrap + host node" >&2
  standin_base
fi
buildah bud --pull=false --layers=false -t "$TAG" .
