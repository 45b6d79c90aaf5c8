#!/usr/bin/env bash
# Makes sure the Docker image `debian:bookworm` exists, so the Dockerfiles (the emulator's and the
# gRPC demo's) build unchanged on machines that cannot pull from a registry: when the image is
# absent, a minbase Debian 12 is debootstrapped from the mirror this machine's apt uses (and
# through apt's proxy, if it has one) and `docker import`ed under that name. Idempotent; needs
# root for debootstrap (uses sudo otherwise).
# Usage: scripts/docker-base-image.sh    (env: BASE_IMAGE, DEBIAN_MIRROR overrides apt's mirror)
set -euo pipefail
IMAGE=${BASE_IMAGE:-debian:bookworm}
SUITE=bookworm

if docker image inspect "$IMAGE" >/dev/null 2>&1; then
  echo "docker-base-image: $IMAGE present"
  exit 0
fi
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
command -v debootstrap >/dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin
command -v debootstrap >/dev/null 2>&1 || { echo "docker-base-image: debootstrap is not installed (scripts/install-deps.sh)" >&2; exit 1; }

MIRROR=${DEBIAN_MIRROR:-$("$(dirname "$0")"/apt-mirror.sh "$SUITE")}
# apt's proxy (Acquire::http::Proxy), if any, is debootstrap's too.
if [ -z "${http_proxy:-}" ] && command -v apt-config >/dev/null 2>&1; then
  proxy=$(apt-config shell p Acquire::http::Proxy 2>/dev/null | sed -n "s/^p='\(.*\)'$/\1/p")
  [ -n "$proxy" ] && [ "$proxy" != DIRECT ] && export http_proxy=$proxy
fi

rootfs=$(mktemp -d /var/tmp/docker-base-image.XXXXXX)
cleanup() { $SUDO rm -rf --one-file-system "$rootfs"; }
trap cleanup EXIT

echo "docker-base-image: $IMAGE absent; debootstrap --variant=minbase $SUITE from $MIRROR"
start=$(date +%s)
$SUDO env ${http_proxy:+http_proxy="$http_proxy"} debootstrap --variant=minbase "$SUITE" "$rootfs" "$MIRROR" >"$rootfs.log" 2>&1 || {
  tail -30 "$rootfs.log" >&2
  rm -f "$rootfs.log"
  echo "docker-base-image: debootstrap failed" >&2
  exit 1
}
rm -f "$rootfs.log"
# As the official image: no package lists or downloaded .debs, and the same default command.
$SUDO rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/log/*.log
$SUDO tar -C "$rootfs" -c . | docker import --change 'CMD ["bash"]' - "$IMAGE" >/dev/null
echo "docker-base-image: imported $IMAGE ($(docker image inspect -f '{{.Size}}' "$IMAGE" | awk '{printf "%.0f MB", $1/1e6}'), $(( $(date +%s) - start )) s)"
