#!/usr/bin/env bash
# Installs, from Debian's packages, whatever flock-anycast needs to build, test and run its
# demo that is not already installed. A no-op (no apt-get update) when everything is there.
set -euo pipefail

packages=(
  # build (gcc: bench/cni_syscalls_floor.c)
  g++ gcc meson ninja-build pkg-config
  libmnl-dev libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev libssl-dev libfmt-dev catch2 libyaml-cpp-dev
  # runtime and test tools (binutils: readelf, for the executable's NEEDED list)
  binutils iproute2 bird2 containernetworking-plugins openssl util-linux procps
  # the Kubernetes example's CNI install script, checked by tree_unit_tests
  jq
  # the house layout (.clang-format), checked by the format test
  clang-format
  # the containerd test (docs/containerd.md): the runtime (runc comes with it) and a static busybox
  containerd busybox-static
  # the CHECK-through-libcni test's driver: Go and libcni (1.1.x) sources
  golang-go golang-github-appc-cni-dev
  # the sanitizer build (test/sanitize.ini) and the fuzz runs (test/fuzz.sh): clang with
  # libFuzzer and the sanitizer runtimes, linked with LLVM's linker
  clang libclang-rt-14-dev lld
  # compiler cache: meson uses it when installed (test/run.sh, docs/reliability.md)
  ccache
)

missing=()
for pkg in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [[ $status == "install ok installed" ]] || missing+=("$pkg")
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps: missing packages (${missing[*]}) and not root; install them or rerun as root" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian's bird2 package starts a system BIRD in the host namespace; our tests run their
# own BIRD instances inside private namespaces and must not depend on (or disturb) it.
if [[ " ${missing[*]} " == *" bird2 "* ]] && command -v systemctl >/dev/null 2>&1; then
  systemctl disable --now bird >/dev/null 2>&1 || true
fi
