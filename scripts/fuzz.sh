#!/usr/bin/env bash
# The long fuzz run: every parser target of Tests/FuzzTests (policy and replay safetensors, SB3
# zips, the state-dict pickle reader, gridworld maps, training configs, sweep specs, env rollout
# JSON) with INPUTS mutated inputs each (default 100000), in a release build under
# AddressSanitizer. Prints one summary line per target; a crash leaves the input that caused it
# in ARTIFACTS/<target>.input (default .build-fuzz/artifacts) and the whole output in fuzz.log
# there. FILTER narrows the targets (e.g. FILTER=stableBaselines3Zips).
#   scripts/fuzz.sh [INPUTS] [SEED]
set -euo pipefail
cd "$(dirname "$0")/.."
artifacts=${ARTIFACTS:-.build-fuzz/artifacts}
mkdir -p "$artifacts"
export GAUNTLET_FUZZ_INPUTS=${1:-100000} GAUNTLET_FUZZ_SEED=${2:-20261125} GAUNTLET_FUZZ_ARTIFACTS=$(realpath "$artifacts")
export GAUNTLET_FUZZ_TIME_LIMIT=${GAUNTLET_FUZZ_TIME_LIMIT:-10}
# Leaks in dependencies (listed with their reasons) are suppressed; any other leak is reported.
export LSAN_OPTIONS="suppressions=$(realpath scripts/lsan-suppressions.txt)${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
swift build -c release --sanitize address --scratch-path .build-fuzz --build-tests >&2
start=$(date +%s)
log="$artifacts/fuzz.log"
status=0
swift test -c release --sanitize address --scratch-path .build-fuzz --skip-build --filter "${FILTER:-FuzzTests}" > "$log" 2>&1 || status=$?
grep -E "^fuzz |✘|ERROR: (Address|Leak)Sanitizer|Fatal error|Test run" "$log" || true
[ "$status" -eq 0 ] || echo "the fuzz run failed (exit $status): see $log and the inputs in $artifacts"
echo "fuzz run: seed $GAUNTLET_FUZZ_SEED, $GAUNTLET_FUZZ_INPUTS inputs per target, $(( $(date +%s) - start )) s"
