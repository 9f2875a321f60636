#!/usr/bin/env bash
# Issue 20: every benchmark in one command. Builds in release mode (its own build directory),
# runs each benchmark in the private network namespaces it makes itself, and prints one
# table, each figure beside its floor measured in the same run, the ratio and the target; the
# table, with the date, CPU, kernel, load average and commit, replaces the part of
# bench/RESULTS.md between its two "bench/run.sh" markers (the analysis around it stays).
#
# Usage (root): bench/run.sh [--rounds N] [--verbose] [--with-suite | --cold-suite | --suite-seconds S]
#   --rounds N         rounds of each round-based comparison (serve's cold passes, the netlink
#                      layer; default 5 and 3); sample counts the targets name stay fixed
#                      (60 CNI ADD/DEL, 500 flips, 300 withdrawals)
#   --verbose          every benchmark's whole output, every round, as it runs
#   --with-suite       also times test/run.sh on a fresh clone of HEAD (long: minutes); it
#                      compiles through the machine's ccache, and the row says how many
#                      compiles the cache answered
#   --cold-suite       the same with an empty ccache: a CI machine that keeps no cache
#   --suite-seconds S  a test/run.sh time measured elsewhere, for its row
# Exits non-zero only when something could not be measured; a missed target is reported in
# the table, never as an exit status. Without --with-suite it takes about 3-5 minutes on 2 cores
# (build included when up to date; a first release build adds 10-25 minutes on a loaded machine).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

rounds=""
verbose=0
with_suite=0
cold_suite=0
suite_seconds=""
while [[ $# -gt 0 ]]; do
  case $1 in
    --rounds) rounds=${2:?--rounds needs a number}; shift 2 ;;
    --verbose) verbose=1; shift ;;
    --with-suite) with_suite=1; shift ;;
    --cold-suite) with_suite=1; cold_suite=1; shift ;;
    --suite-seconds) suite_seconds=${2:?--suite-seconds needs a number}; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench/run.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
if [[ -n $rounds && ! $rounds =~ ^[1-9][0-9]*$ ]]; then
  echo "bench/run.sh: --rounds wants a positive number, not $rounds" >&2; exit 2
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "bench/run.sh: run as root (the benchmarks make network namespaces)" >&2; exit 1
fi

build=${BENCH_BUILD_DIR:-$root/build-bench}
started=$(date +%s)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

# The shipped link (packaging/Containerfile): flock-anycast whole-static with a libmnl.a built
# from Debian's libmnl source package, once (cached in build-libmnl, which test/run.sh then
# uses too). MNL_ARCHIVE_DIR names a directory that already holds lib/libmnl.a instead.
# Where it cannot be made (no deb-src on the mirror: this lab's serves only .deb and .dsc), the
# run measures Debian's default link alone and its header says so.
if [[ -n ${MNL_ARCHIVE_DIR:-} ]]; then
  mnl_dir=$MNL_ARCHIVE_DIR
else
  mnl_dir=$root/build-libmnl
  echo "=== libmnl.a from Debian's libmnl source package in ${mnl_dir}"
  if ! packaging/build-libmnl-static.sh "$mnl_dir"; then
    echo "    no libmnl.a: measuring Debian's default link only (MNL_ARCHIVE_DIR names one built elsewhere)" >&2
    mnl_dir=""
  fi
fi
if [[ -n $mnl_dir ]]; then
  link_note="flock-anycast whole-static, as shipped, with ${mnl_dir}/lib/libmnl.a ($(cat "$mnl_dir/VERSION" 2>/dev/null || echo "no VERSION file: not made by packaging/build-libmnl-static.sh"))"
else
  link_note="flock-anycast as Debian's default link (glibc and libmnl shared): no libmnl.a could be made"
fi

# A user's release build (no -Werror: lab-notes.md, "A release build").
echo "=== release build in ${build}"
if [[ ! -f $build/build.ninja ]]; then
  meson setup "$build" --buildtype=release -Dmnl_archive_dir="$mnl_dir" >"$build.setup.log" 2>&1 ||
    { cat "$build.setup.log" >&2; exit 1; }
else
  meson configure "$build" -Dmnl_archive_dir="$mnl_dir" >"$build.setup.log" 2>&1 || { cat "$build.setup.log" >&2; exit 1; }
fi
targets=(flock-anycast bench/cni_bench bench/cni_syscalls_floor bench/netlink_bench bench/serve_bench
         bench/serve_flip_bench bench/flip_floor bench/bird_withdraw_bench bench/ecmp_bench)
ninja -C "$build" "${targets[@]}" >"$build/bench-build.log" 2>&1 || { tail -50 "$build/bench-build.log" >&2; exit 1; }

# For readers: Debian's default link (glibc and libmnl shared, RUNPATH $ORIGIN/flock-anycast.d,
# what a plain `meson setup` makes on Debian), the same objects relinked with ninja's own link
# command, the archive and -static swapped for libmnl.so and the RUNPATH: a few seconds, where a
# second build directory would compile everything again.
shared_variant=flock-anycast-debian-default-link
cni_extra=()
if [[ -n $mnl_dir ]]; then
  link=$(ninja -C "$build" -t commands flock-anycast | tail -1)
  archive=" $mnl_dir/lib/libmnl.a "
  if [[ $link != *" -o flock-anycast "* || $link != *" -static "* || $link != *"$archive"* ]]; then
    echo "bench/run.sh: flock-anycast's link command is not the whole-static one expected: $link" >&2; exit 1
  fi
  link=${link/" -o flock-anycast "/" -o $shared_variant "}
  link=${link/" -static "/" -Wl,--enable-new-dtags '-Wl,-rpath,\$ORIGIN/flock-anycast.d' "}
  link=${link/"$archive"/" -lmnl "}
  (cd "$build" && eval "$link") >>"$build/bench-build.log" 2>&1 || { tail -20 "$build/bench-build.log" >&2; exit 1; }
  if [[ $(readelf -d "$build/$shared_variant" | grep -c 'Shared library: \[\(libmnl.so.0\|libc.so.6\)\]') -ne 2 ]]; then
    echo "bench/run.sh: $build/$shared_variant does not load libc.so.6 and libmnl.so.0" >&2; exit 1
  fi
  cni_extra=("$build/$shared_variant")
fi

logs=$build/bench-logs
rm -rf "$logs"
mkdir -p "$logs"
export BENCH_VERBOSE=$verbose
[[ -n $rounds ]] && export BENCH_ROUNDS=$rounds

failed=()
timings=()
# run NAME COMMAND...: its output into $logs/NAME.log (and the terminal with --verbose).
run() {
  local name=$1; shift
  local t0 rc
  t0=$(date +%s)
  echo "=== ${name}: $*"
  set +e
  if [[ $verbose -eq 1 ]]; then
    "$@" 2>&1 | tee "$logs/$name.log"; rc=${PIPESTATUS[0]}
  else
    "$@" >"$logs/$name.log" 2>&1; rc=$?
  fi
  set -e
  timings+=("${name} $(( $(date +%s) - t0 )) s")
  if [[ $rc -ne 0 ]]; then
    failed+=("$name")
    echo "    could not measure (exit ${rc}); last lines of ${logs}/${name}.log:" >&2
    tail -5 "$logs/$name.log" >&2
  fi
}

run cni "$build/bench/cni_bench" 60 "${cni_extra[@]}"
run serve "$build/bench/serve_bench"
run serve-flip "$build/bench/serve_flip_bench"
run bird-withdraw unshare --net -- "$build/bench/bird_withdraw_bench" 300
run ecmp "$build/bench/ecmp_bench"
run netlink "$build/bench/netlink_bench"

# test/run.sh on a fresh clone of HEAD (another engineer's figure otherwise).
suite_row="| \`test/run.sh\` on a fresh clone, 2 cores | not measured in this run (use --with-suite) | - | - | <= 8 min | - |"
if [[ $with_suite -eq 1 ]]; then
  clone=$(mktemp -d /var/tmp/flock-suite.XXXXXX)
  git clone --quiet "$root" "$clone/src"
  suite_env=()
  [[ $cold_suite -eq 1 ]] && suite_env=(CCACHE_DIR="$clone/ccache")
  t0=$(date +%s)
  set +e
  (cd "$clone/src" && env "${suite_env[@]}" bash test/run.sh) >"$logs/suite.log" 2>&1; rc=$?
  set -e
  # A failed run's time is no figure: the row says it failed.
  if [[ $rc -eq 0 ]]; then
    suite_seconds=$(( $(date +%s) - t0 ))
    suite_cache=$(sed -n 's/^compiles: \([0-9]*\) answered by ccache, \([0-9]*\) compiled$/\1 of \1+\2/p' "$logs/suite.log" |
                  awk -F'[ +]' '{ printf "%d of %d compiles from ccache", $1, $3 + $4 }')
  else
    failed+=("suite (test/run.sh exit ${rc}, ${logs}/suite.log)")
    suite_row="| \`test/run.sh\` on a fresh clone, 2 cores | failed (exit ${rc}): not measured | - | - | <= 8 min | - |"
  fi
  rm -rf "$clone"
fi
if [[ -n $suite_seconds ]]; then
  met=$(awk -v s="$suite_seconds" 'BEGIN { print (s <= 480 ? "yes" : "NO") }')
  suite_row=$(awk -v s="$suite_seconds" -v m="$met" \
    -v c="${suite_cache:-}" \
    'BEGIN { printf "| `test/run.sh` on a fresh clone, 2 cores%s | %.1f min | - | - | <= 8 min | %s |", (c == "" ? "" : " (" c ")"), s / 60, m }')
fi

table=$(
  echo "| figure | ours | floor (same run) | ratio | target | met? |"
  echo "| --- | --- | --- | --- | --- | --- |"
  for name in cni serve serve-flip bird-withdraw ecmp netlink; do  # the issue's order
    [[ -f $logs/$name.log ]] && cat "$logs/$name.log"
  done | awk -F'\t' '$1 == "RESULT" { printf "| %s | %s | %s | %s | %s | %s |\n", $2, $3, $4, $5, $6, $7 }'
  echo "$suite_row"
)
if ! grep -q '^RESULT' "$logs"/*.log; then failed+=("no result line at all"); fi

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
# bench/RESULTS.md itself does not count: this run rewrites it.
[[ -n $(git status --porcelain --untracked-files=no -- . ':!bench/RESULTS.md' 2>/dev/null) ]] &&
  commit="$commit (with uncommitted changes)"
header=$(
  echo "Run of $(date -u '+%Y-%m-%d %H:%M UTC'), commit ${commit}."
  echo "CPU: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores; kernel $(uname -r)."
  echo "Load average (1, 5, 15 min) before: ${load_before}; after: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo "Took $(( $(date +%s) - started )) s (build included): ${timings[*]}."
  echo "Rounds: ${rounds:-default}. Logs of every benchmark: ${logs}/."
  echo "Link: ${link_note}."
)
echo
echo "$header"
echo
echo "$table"

# Only the generated part of bench/RESULTS.md is replaced.
results=$root/bench/RESULTS.md
begin='<!-- bench/run.sh: begin (generated, replaced at each run) -->'
end='<!-- bench/run.sh: end -->'
if [[ ! -f $results ]] || ! grep -qF "$begin" "$results"; then
  printf '# Benchmark results\n\n%s\n%s\n' "$begin" "$end" >>"$results"
fi
generated=$(mktemp)
printf '%s\n\n%s\n' "$header" "$table" >"$generated"
awk -v begin="$begin" -v end="$end" -v file="$generated" '
  $0 == begin { print; while ((getline line < file) > 0) print line; skip = 1; next }
  $0 == end { skip = 0 }
  !skip { print }' "$results" >"$results.new"
mv "$results.new" "$results"
rm -f "$generated"
echo
echo "written to bench/RESULTS.md"

if [[ ${#failed[@]} -gt 0 ]]; then
  echo "bench/run.sh: could not measure: ${failed[*]}" >&2
  exit 1
fi
