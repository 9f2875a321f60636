#!/usr/bin/env bash
# The soak (issue 15 item B.4): `flock-anycast serve` beside a real BIRD that peers with a
# second BIRD, in private network namespaces, under random churn for MINUTES minutes: CNI
# ADD/DEL by the real plugin and through the record store, readiness flips, our routes tampered
# with by hand, foreign routes added and removed, kill -9 of serve and of BIRD (restarted),
# SIGHUPs. After every round it checks that our kernel routes equal the driver's own model,
# that BIRD exports and the peer receives exactly those prefixes, that no foreign route was
# touched, and that serve is alive with its fds and memory within a bound. Prints a summary
# (also to <build>/meson-logs/soak.log); exits non-zero on any violation, keeping the lab's
# logs (serve, BIRD) in <build>/meson-logs/soak-failure/.
#
#   test/soak.sh [-C BUILD_DIR] MINUTES [driver options]     (or MINUTES=N test/soak.sh)
#     BUILD_DIR  an existing build directory (default $BUILD_DIR, else build); the driver
#                (test/reliability/soak_driver) and flock-anycast are built there if needed
#     driver options: --seed N (replay a run), --kill-every SECONDS (mean time between kills
#                of serve, and of BIRD; default 30), --settle-ms N, --bird-settle-ms N
#
# Examples: test/soak.sh 2 (what test/run.sh runs); test/soak.sh -C build-rel 60 --kill-every 120
# (the documented hour: 68 565 rounds, 136 723 operations, 29 kills of each, no violation).
# Needs root; never touches the host's own namespace (the driver runs under `unshare --net`
# and makes its namespaces with the harness's "flkt" prefix, removed on exit).
set -euo pipefail
cd "$(dirname "$0")/.."

build=${BUILD_DIR:-build}
if [[ ${1:-} == -C ]]; then
  build=${2:?"-C needs a build directory"}
  shift 2
fi
number='^[0-9]+([.][0-9]+)?$'
if [[ ${1:-} =~ $number ]]; then
  minutes=$1
  shift
else
  minutes=${MINUTES:-}
fi
if [[ ! $minutes =~ $number ]]; then
  echo "usage: test/soak.sh [-C BUILD_DIR] MINUTES [driver options]  (or MINUTES=N test/soak.sh)" >&2
  exit 2
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "test/soak.sh: run as root (network namespaces, BIRD)" >&2
  exit 2
fi
if [[ ! -f $build/build.ninja ]]; then
  echo "test/soak.sh: $build is not a configured build directory (meson setup $build)" >&2
  exit 2
fi

ninja -C "$build" flock-anycast test/reliability/soak_driver >/dev/null
log="$build/meson-logs/soak.log"
mkdir -p "$(dirname "$log")"

# The driver stops cleanly (summary included) on SIGTERM; a background job of a script ignores
# SIGINT, so Ctrl-C is passed on by hand.
driver=""
# shellcheck disable=SC2317  # called by the trap
cleanup() {
  if [[ -n $driver ]]; then
    # Named namespaces of a driver that died without its destructors: "flkt<pid % 100000><tag>"
    # (test/support/netns.hpp; tags start with a letter, so another pid's cannot match).
    for ns in $(ip netns list 2>/dev/null | awk -v p="^flkt$((driver % 100000))[^0-9]" '$1 ~ p {print $1}'); do
      ip netns del "$ns" 2>/dev/null || true
    done
  fi
}
trap cleanup EXIT
trap '[[ -n $driver ]] && kill -TERM "$driver" 2>/dev/null || true' INT TERM

echo "=== soak: ${minutes} minutes against $build (log $log)"
start=$(date +%s)
: >"$log"
rm -rf "$build/meson-logs/soak-failure"
unshare --net -- "$build/test/reliability/soak_driver" --minutes "$minutes" --keep "$build/meson-logs/soak-failure" \
  "$@" >"$log" 2>&1 &
driver=$!
tail -n +1 -s 0.2 -f --pid="$driver" "$log" &
tailer=$!
status=0
while true; do
  wait "$driver" && status=0 || status=$?
  # A trapped signal interrupts `wait` (status > 128) while the driver still runs.
  if ! kill -0 "$driver" 2>/dev/null; then break; fi
done
wait "$tailer" || true
echo "=== soak: driver exited with status $status after $(( $(date +%s) - start )) s"
exit "$status"
