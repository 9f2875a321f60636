#!/usr/bin/env bash
# Runs every libFuzzer target of test/fuzz/ (issue 15 item B.1):
#   test/fuzz.sh SECONDS            each target for SECONDS (test/run.sh's smoke run: 10)
#   test/fuzz.sh --runs N           each target for N executions (the documented 1 000 000 run)
# Options (before SECONDS or --runs):
#   --only a,b      just these targets (names as in test/fuzz/corpus/)
#   --merge         afterwards, merge the inputs that found new coverage back into
#                   test/fuzz/corpus/<target>/ (minimised with -merge=1); off by default
#   --jobs N        targets run N at a time (default 1; each target is one process)
#   --build DIR     use DIR, a build already configured with fuzz=true (test/run.sh passes its
#                   sanitizer build, build-asan: clang, ASan + UBSan, -O0), instead of build-fuzz
# Configures build-fuzz with clang, libFuzzer, ASan and UBSan, and builds only the fuzz_*
# targets. Each target runs on a copy of its corpus (build-fuzz/fuzz-work/corpus/<target>), so
# the tree stays as it is unless --merge; crash, leak, timeout and OOM inputs are written to
# build-fuzz/fuzz-artifacts/<target>/, logs to build-fuzz/fuzz-work/<target>.log. Prints one
# line per target and exits non-zero when any target crashed. Root is not needed.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build="build-fuzz"
own_build=1

usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

seconds=""
runs=""
only=""
merge=0
jobs=1
while [[ $# -gt 0 ]]; do
  case $1 in
    --runs) runs=${2:?}; shift 2 ;;
    --only) only=${2:?}; shift 2 ;;
    --merge) merge=1; shift ;;
    --jobs) jobs=${2:?}; shift 2 ;;
    --build) build=${2:?}; own_build=0; shift 2 ;;
    -h|--help) usage ;;
    [0-9]*) seconds=$1; shift ;;
    *) usage ;;
  esac
done
[[ -n $seconds || -n $runs ]] || usage

# Every target of test/fuzz/meson.build, and the longest input each is given. Inputs are
# bounded so an execution stays short: 4 KiB holds any realistic record, config or event, and
# yaml-cpp (kubeconfig) gets slow on long inputs; a netlink dump of this size holds a few
# dozen routes and the captured seeds; an HTTP request is bounded by the endpoint at 8 KiB.
declare -A max_len=(
  [cni_config]=4096 [record]=4096 [node_config]=4096 [watch_event]=4096 [pod_list]=4096
  [node]=4096 [kubeconfig]=2048 [bird_reply]=1024 [netlink]=8192 [metrics_http]=9000
  [metrics_scrape]=2048 [readiness_file]=2048 [pod_lookup]=2048
)
targets=(cni_config record node_config watch_event pod_list node kubeconfig bird_reply netlink metrics_http
         metrics_scrape readiness_file pod_lookup)
if [[ -n $only ]]; then
  IFS=, read -r -a targets <<<"$only"
  for t in "${targets[@]}"; do
    [[ -n ${max_len[$t]:-} ]] || { echo "fuzz.sh: unknown target $t" >&2; exit 2; }
  done
fi

# clang, because libFuzzer is clang's. The libraries get -fsanitize=fuzzer-no-link so their
# code reports coverage; every UBSan finding aborts (-fno-sanitize-recover). UBSan's
# -fsanitize=function stays off: clang 14 cannot compile it for the project's C++20
# coroutines (common/kube's client: "Cannot represent a difference across sections"), which a
# target linking flock_kube would build.
cpp_args="-fsanitize=fuzzer-no-link -fno-sanitize-recover=all -fno-sanitize=function"
options=(-Dfuzz=true "-Db_sanitize=address,undefined" -Db_lundef=false -Doptimization=1 -Dwerror=true
         "-Dcpp_args=${cpp_args}")
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if [[ $own_build -eq 0 ]]; then
  # Someone else's build (test/run.sh's build-asan): configured by its owner, only built here.
  if [[ ! -f $build/build.ninja ]]; then
    echo "fuzz.sh: --build $build: not a configured build directory" >&2
    exit 2
  fi
else
  if [[ ! -f $build/build.ninja ]]; then
    setup=(env CC=clang CXX=clang++ meson setup "$build" "${options[@]}")
  else
    setup=(meson configure "$build" "${options[@]}")  # no rebuild when they are unchanged
  fi
  if ! "${setup[@]}" >"$log" 2>&1; then
    cat "$log" >&2
    exit 1
  fi
fi
# Only the fuzz targets and what they link, not the whole project.
if ! ninja -C "$build" "${targets[@]/#/test/fuzz/fuzz_}" >"$log" 2>&1; then
  cat "$log" >&2
  exit 1
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

work=$build/fuzz-work
artifacts=$build/fuzz-artifacts

run_target() {
  local t=$1
  local corpus=$work/corpus/$t
  rm -rf "$corpus" "$work/new/$t"
  mkdir -p "$corpus" "$work/new/$t" "$artifacts/$t"
  cp -r test/fuzz/corpus/"$t"/. "$corpus"/
  local limit=(-max_total_time="${seconds:-0}")
  [[ -n $runs ]] && limit=(-runs="$runs")
  # New inputs go to a directory of their own (the first one given) so --merge can tell them
  # from the seeds; stdin is /dev/null so no input can make a target wait on the terminal.
  local status=0 started=$SECONDS
  "$build/test/fuzz/fuzz_$t" "${limit[@]}" -max_len="${max_len[$t]}" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$artifacts/$t/" "$work/new/$t" "$corpus" \
    </dev/null >"$work/$t.log" 2>&1 || status=$?
  local execs rate size result
  execs=$(awk '/^stat::number_of_executed_units:/ {print $NF}' "$work/$t.log")
  rate=$(awk '/^stat::average_exec_per_sec:/ {print $NF}' "$work/$t.log")
  size=$(( $(find "$corpus" "$work/new/$t" -type f | wc -l) ))
  if [[ $status -eq 0 ]]; then
    result=ok
  else
    local newest
    newest=$(find "$artifacts/$t" -type f -printf '%T@ %p\n' | sort -n | tail -1 | cut -d' ' -f2-)
    result="CRASH (exit ${status}: ${newest:-no artifact}; log $work/$t.log)"
  fi
  printf '%-15s %12s %6s %9s %7s  %s\n' "$t" "${execs:-?}" "$((SECONDS - started))" "${rate:-?}" "$size" "$result"
  if [[ $merge -eq 1 && $status -eq 0 ]]; then
    "$build/test/fuzz/fuzz_$t" -merge=1 -max_len="${max_len[$t]}" "test/fuzz/corpus/$t" "$work/new/$t" \
      </dev/null >>"$work/$t.log" 2>&1
  fi
  return $status
}

mkdir -p "$work"
printf '%-15s %12s %6s %9s %7s  %s\n' target execs secs exec/s inputs result
failed=0
running=0
for t in "${targets[@]}"; do
  if [[ $jobs -le 1 ]]; then
    run_target "$t" || failed=1
    continue
  fi
  run_target "$t" &
  running=$((running + 1))
  if [[ $running -ge $jobs ]]; then
    wait -n || failed=1
    running=$((running - 1))
  fi
done
while [[ $running -gt 0 ]]; do
  wait -n || failed=1
  running=$((running - 1))
done

if [[ $failed -ne 0 ]]; then
  echo "fuzz.sh: a target crashed; inputs in ${root}/${artifacts}/, reproduce with" \
       "${build}/test/fuzz/fuzz_<target> <input>, then keep it in test/fuzz/regressions/<target>/" >&2
  exit 1
fi
