#!/usr/bin/env bash
# The README's first command: installs what is missing, builds, and runs the main job.
#
# Today the main job is small: the lab demo (a node, a BGP router and three pods attached by a
# real CNI chain, walked through readiness changes) arrives with the "Operating it" issue.
# What runs here is real: the built executable's version and a real CNI VERSION call.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $(id -u) -ne 0 ]]; then
  echo "examples/demo.sh: run as root (it installs packages and, later, builds a namespace lab)" >&2
  exit 1
fi

bash test/install-deps.sh
if [[ ! -f build/build.ninja ]]; then
  meson setup build >/dev/null
fi
ninja -C build flock-anycast >/dev/null

bin=build/flock-anycast
echo "\$ flock-anycast version"
"$bin" version
echo
echo "\$ echo '{}' | CNI_COMMAND=VERSION flock-anycast"
echo '{}' | CNI_COMMAND=VERSION "$bin"
echo
echo "Not in this demo yet: the namespace lab with pods, serve and BIRD (see README.md, \"Status\")."
