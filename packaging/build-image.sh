#!/usr/bin/env bash
# Builds flock-anycast's image from packaging/Containerfile (packaging/README.md).
#
#   packaging/build-image.sh [--tag NAME] [--base-image NAME | --local-base] [--tool buildah|podman|docker]
#                            [--save FILE]
#
# --base-image  the Debian 12 image to build on (default debian:bookworm, from a registry);
# --local-base  no registry: make a Debian 12 rootfs with mmdebstrap from Debian's mirror
#               (installed if missing) and import it as localhost/flock-anycast-base:bookworm;
# --tool        default: docker when its daemon answers, else buildah (installed from Debian's
#               packages if missing and root), which needs no daemon;
# --save FILE   also write the image as an OCI archive (podman load / docker load / ctr import).
# MIRROR (default http://deb.debian.org/debian) is the mirror --local-base uses.
set -euo pipefail

source_dir=$(cd "$(dirname "$0")/.." && pwd)
tag=flock-anycast:$(sed -n "s/^ *version : '\(.*\)',/\1/p" "$source_dir/meson.build")
base_image=debian:bookworm
local_base=false
tool=""
save=""
mirror=${MIRROR:-http://deb.debian.org/debian}
local_base_name=localhost/flock-anycast-base:bookworm

die() { echo "build-image: $*" >&2; exit 1; }
log() { echo "build-image: $*" >&2; }

while (($#)); do
  case $1 in
    --tag) tag=$2; shift 2 ;;
    --base-image) base_image=$2; shift 2 ;;
    --local-base) local_base=true; shift ;;
    --tool) tool=$2; shift 2 ;;
    --save) save=$2; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) die "unknown argument $1 (--help)" ;;
  esac
done

# Installs Debian packages that are missing (as test/install-deps.sh does).
ensure_packages() {
  local missing=() pkg
  for pkg in "$@"; do
    [[ $(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true) == "install ok installed" ]] || missing+=("$pkg")
  done
  ((${#missing[@]} == 0)) && return 0
  [[ $(id -u) -eq 0 ]] || die "missing packages (${missing[*]}) and not root; install them or rerun as root"
  log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

if [[ -z $tool ]]; then
  if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
    tool=docker
  else
    ensure_packages buildah
    tool=buildah
  fi
fi
case $tool in
  docker|podman|buildah) command -v "$tool" >/dev/null || die "$tool not found" ;;
  *) die "--tool must be buildah, podman or docker" ;;
esac

# Without a daemon (buildah, podman): RUN steps in a chroot instead of an OCI runtime, and in
# the host's network namespace, which they only use (apt-get) and never change: no bridge, no
# firewall rules. The open-files limit is the caller's (runc could not raise it in the build VM:
# packaging/README.md).
daemonless_args=(--isolation chroot --network host --ulimit "nofile=$(ulimit -Sn):$(ulimit -Hn)")

if $local_base; then
  base_image=$local_base_name
  ensure_packages mmdebstrap
  rootfs=$(mktemp -d)
  trap 'rm -rf "$rootfs"' EXIT
  log "making a Debian 12 rootfs from $mirror (mmdebstrap, minbase)"
  mmdebstrap --quiet --variant=minbase bookworm "$rootfs/bookworm.tar" \
    "deb $mirror bookworm main" "deb $mirror bookworm-updates main" \
    "deb ${mirror%/debian}/debian-security bookworm-security main"
  log "importing it as $base_image"
  case $tool in
    docker|podman) "$tool" import "$rootfs/bookworm.tar" "$base_image" >/dev/null ;;
    buildah)
      container=$(buildah from scratch)
      buildah add "$container" "$rootfs/bookworm.tar" / >/dev/null
      buildah commit --rm "$container" "$base_image" >/dev/null ;;
  esac
fi

log "building $tag on $base_image with $tool"
case $tool in
  docker) docker build --build-arg "BASE_IMAGE=$base_image" -t "$tag" -f "$source_dir/packaging/Containerfile" "$source_dir" ;;
  podman) podman build "${daemonless_args[@]}" --build-arg "BASE_IMAGE=$base_image" -t "$tag" \
            -f "$source_dir/packaging/Containerfile" "$source_dir" ;;
  buildah) buildah build "${daemonless_args[@]}" --build-arg "BASE_IMAGE=$base_image" -t "$tag" \
             -f "$source_dir/packaging/Containerfile" "$source_dir" ;;
esac

if [[ -n $save ]]; then
  case $tool in
    docker) docker save -o "$save" "$tag" ;;
    *) "$tool" push "$tag" "oci-archive:$save" ;;
  esac
  log "saved $save"
fi
log "done: $tag"
