#!/usr/bin/env bash
# The README's test command: installs what is missing, builds the normal and the
# sanitizer (ASan + UBSan) variants, runs every unit and integration test in both, and ends
# with the summary. Exits non-zero on any failure. Needs root (integration tests make
# private network namespaces); never touches the host's own namespace.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

if [[ $(id -u) -ne 0 ]]; then
  echo "test/run.sh: run as root (integration tests create network namespaces)" >&2
  exit 1
fi

bash test/install-deps.sh

# Named namespaces left behind by a test binary that was killed (fixtures remove their own
# on every normal or failing exit); the "flkt" prefix is the harness's (test/support/netns.hpp),
# followed by the test binary's pid modulo 100000. A namespace whose pid is still running
# belongs to a test running now (another checkout's run, a test started by hand): kept.
live_pids=" $(for p in /proc/[0-9]*; do printf '%d ' $(( ${p#/proc/} % 100000 )); done)"
for ns in $(ip netns list 2>/dev/null | awk '$1 ~ /^flkt/ {print $1}'); do
  owner=${ns#flkt}
  owner=${owner%%[!0-9]*}
  [[ -n $owner && $live_pids == *" $((10#$owner)) "* ]] && continue
  ip netns del "$ns" 2>/dev/null || true
done

# ccache (install-deps.sh installs it, meson finds it): a later run over the same sources, in
# this checkout or a fresh clone elsewhere, compiles from the cache. The checkout's path is
# left out of the hash for that (debug info may then name another checkout's build directory).
# The summary says how many compiles the cache answered, so a run's time is read as cold or warm.
export CCACHE_BASEDIR=$root CCACHE_NOHASHDIR=true
ccache_counts() {  # hits and misses so far, all runs together
  ccache --print-stats 2>/dev/null | awk '
    $1 == "direct_cache_hit" || $1 == "preprocessed_cache_hit" { h += $2 }
    $1 == "cache_miss" { m += $2 }
    END { print h + 0, m + 0 }'
}
read -r ccache_hits_before ccache_misses_before < <(ccache_counts)

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# Each phase is printed with the time since the start, so a slow run shows where it went.
phase() { printf '=== [%d:%02d] %s\n' $((SECONDS / 60)) $((SECONDS % 60)) "$*"; }

variants=(build build-asan)
# The project's own test builds: warnings are errors and the crash tests' fault hooks are
# compiled in (both off in a user's default build).
test_options="-Dwerror=true -Dtest_hooks=true"
# The sanitizer build is clang's, a unity build without the precompiled header, with the fuzz
# targets (test/sanitize.ini says why). The normal build is GCC at a user's default
# optimization (-O2), also joined into unity files without the precompiled header: it
# compiles in 3:55 instead of 5:22 on 2 cores (docs/reliability.md, "Suite time"); a user's
# default setup (one file a unit, the header precompiled) is what bench/run.sh builds.
build_options="-Dunity=on -Dunity_size=16 -Db_pch=false"
# The image links flock-anycast whole-static with a libmnl.a built from Debian's libmnl source
# (packaging/build-libmnl-static.sh). When one was built here (bench/run.sh makes build-libmnl;
# FLOCK_MNL_ARCHIVE_DIR names another), the normal build links that way too and its tests check
# that binary; else Debian's default link. Nothing is downloaded here; switching relinks only.
mnl_archive_dir=${FLOCK_MNL_ARCHIVE_DIR:-$root/build-libmnl}
[[ -f $mnl_archive_dir/lib/libmnl.a ]] || mnl_archive_dir=""
build_options+=" -Dmnl_archive_dir=${mnl_archive_dir}"
declare -A setup_args=(
  [build]="${build_options}"
  [build-asan]="--native-file test/sanitize.ini"
)
native_files=(test/sanitize.ini)
if command -v ccache >/dev/null; then
  native_files+=(test/sanitize-ccache.ini)
  setup_args[build-asan]+=" --native-file test/sanitize-ccache.ini"
fi
declare -A configure_args=([build]="${build_options}" [build-asan]="")
declare -A multiplier=([build]=1 [build-asan]=3)
# Tests mostly wait (BIRD timers, serve's passes, child processes), so more run at once than
# there are cores; each makes its own uniquely named namespaces (test/support/netns.hpp).
test_processes=${FLOCK_TEST_PROCESSES:-4}

# `meson configure` does not re-read a native file: a build-asan set up from an older
# test/sanitize.ini would keep some of its old options (seen: the precompiled header and
# cpp_args of the time before the unity build) and fail to compile. Its setup remembers the
# file's hash; another hash sets it up afresh.
sanitize_hash=$(cat "${native_files[@]}" | sha256sum | cut -d' ' -f1)
if [[ -f build-asan/build.ninja && $(cat build-asan/.sanitize-ini-sha256 2>/dev/null) != "$sanitize_hash" ]]; then
  phase "build-asan: test/sanitize.ini changed since it was set up; setting it up afresh"
  rm -rf build-asan
fi

for variant in "${variants[@]}"; do
  if [[ ! -f ${variant}/build.ninja ]]; then
    # shellcheck disable=SC2086
    meson setup "${variant}" ${setup_args[$variant]} ${test_options} >/dev/null
    if [[ $variant == build-asan ]]; then echo "$sanitize_hash" >build-asan/.sanitize-ini-sha256; fi
  else
    # A build directory made by hand or by examples/demo.sh gets the test options too.
    # shellcheck disable=SC2086
    meson configure "${variant}" ${configure_args[$variant]} ${test_options} >/dev/null
  fi
done

status=0
summary=()
run_tests() {
  local variant=$1 passed failed
  phase "${variant}: tests"
  if ! meson test -C "${variant}" --print-errorlogs --no-rebuild --num-processes "${test_processes}" \
       --timeout-multiplier "${multiplier[$variant]}"; then
    status=1
  fi
  # Catch2 prints one summary per test binary into meson's log; add them up.
  read -r passed failed < <(awk '
    /^All tests passed \(/ { for (i = 1; i <= NF; i++) if ($i == "test") p += $(i-1) }
    /^test cases:/ { for (i = 1; i <= NF; i++) { if ($i == "passed") p += $(i-1); if ($i == "failed") f += $(i-1) } }
    END { print p + 0, f + 0 }' "${variant}/meson-logs/testlog.txt")
  summary+=("${variant}: ${passed} test cases passed, ${failed} failed")
  total_passed=$(( ${total_passed:-0} + passed ))
  total_failed=$(( ${total_failed:-0} + failed ))
}

# Compiling is most of the suite's time and keeps both cores busy, while the tests mostly
# wait. So build-asan compiles in the background at idle priority (SCHED_IDLE: it gets a core
# only when nothing else wants one, so the timing-sensitive tests and the soak in the
# foreground are not slowed), its output in a log printed when it fails. In order: build;
# build's tests and then the soak, beside build-asan's compile; build-asan's tests beside the
# fuzz smoke (docs/reliability.md, "Suite time").
# Background work does not outlive the script (Ctrl-C, a failed foreground step).
trap 'jobs -p | xargs -r kill 2>/dev/null || true' EXIT

if [[ -n $mnl_archive_dir ]]; then
  phase "build: compile (flock-anycast whole-static with ${mnl_archive_dir}/lib/libmnl.a)"
else
  phase "build: compile (flock-anycast as Debian's default link: glibc and libmnl shared)"
fi
ninja -C build

phase "build-asan: compile (in the background at idle priority, log build-asan/meson-logs/run-ninja.log)"
mkdir -p build-asan/meson-logs
idle=(chrt --idle 0)
chrt --idle 0 true 2>/dev/null || idle=(nice -n 19)  # a sandbox that refuses SCHED_IDLE
"${idle[@]}" ninja -C build-asan >build-asan/meson-logs/run-ninja.log 2>&1 &
asan_compile=$!

run_tests build

# The soak (issue 15 B.4): 2 minutes of churn, kills and invariant checks on the normal build.
phase "build: soak (2 minutes)"
if test/soak.sh -C build 2; then
  summary+=("soak: passed (2 minutes; build/meson-logs/soak.log)")
else
  status=1
  summary+=("soak: FAILED (build/meson-logs/soak.log; lab logs in build/meson-logs/soak-failure/)")
fi

phase "build-asan: waiting for its compile"
if ! wait "$asan_compile"; then
  tail -n 100 build-asan/meson-logs/run-ninja.log >&2
  echo "test/run.sh: build-asan failed to compile (build-asan/meson-logs/run-ninja.log)" >&2
  exit 1
fi

# Every parser fuzzed for a few seconds with libFuzzer: its targets are part of build-asan
# (test/sanitize.ini); the corpora and regression inputs are replayed in both builds. The
# documented long run: test/fuzz.sh --runs 1000000 (docs/reliability.md). Its output goes to a
# log, shown after build-asan's tests.
phase "fuzz smoke (libFuzzer, 10 s per target, two at a time; in the background, log build-asan/meson-logs/fuzz-smoke.log)"
fuzz_log=build-asan/meson-logs/fuzz-smoke.log
nice -n 10 test/fuzz.sh --build build-asan --jobs 2 10 >"$fuzz_log" 2>&1 &
fuzz=$!

run_tests build-asan

phase "fuzz smoke: waiting for it"
if wait "$fuzz"; then
  cat "$fuzz_log"
  summary+=("fuzz smoke: every target ran 10 s without a crash")
else
  cat "$fuzz_log"
  status=1
  summary+=("fuzz smoke: FAILED")
fi

echo
phase "summary (Catch2 test cases, both builds)"
printf '%s\n' "${summary[@]}"
if command -v ccache >/dev/null; then
  read -r ccache_hits ccache_misses < <(ccache_counts)
  echo "compiles: $((ccache_hits - ccache_hits_before)) answered by ccache, $((ccache_misses - ccache_misses_before)) compiled"
fi
if [[ $status -ne 0 && ${total_failed:-0} -eq 0 ]]; then
  # A binary crashed or timed out before Catch2 could count: still a failure.
  total_failed=1
fi
echo "${total_passed:-0} passed, ${total_failed:-0} failed"
exit $status
