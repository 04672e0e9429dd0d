#!/usr/bin/env bash
# Part of `make test`: runs every test of the built test bundle, in a few processes side by side.
#
#   scripts/run-tests.sh [BUNDLE]   (default .build/debug/StrideCuePackageTests.xctest)
#
# Why processes: much of the tests' time is spent waiting, on the real clock (a paced sound card
# playing seconds of clicks, a browser) or on the programs they run, not on this process's CPU.
# One test process runs at most as many tests at once as the machine has cores (Swift Testing
# runs them on Swift's cooperative pool, and these tests block the thread they run on while they
# wait), so on 2 cores the live tests queued behind each other for minutes while the CPU idled.
# `swift test` cannot be run twice at once on one build folder (SwiftPM locks it), so the bundle
# is run directly, as `swift test --skip-build` runs it. A test can still be run alone with
# `swift test --skip-build --filter NAME`.
set -uo pipefail
cd "$(dirname "$0")/.."
bundle=${1:-.build/debug/StrideCuePackageTests.xctest}
[ -x "$bundle" ] || { echo "run-tests.sh: $bundle is not built (swift build --build-tests)" >&2; exit 66; }

# Each group: a regular expression over test IDs (Target.Suite/Sub/test()). The groups of the
# first phase run side by side, the last taking every test no other group takes, so that every
# test runs exactly once. The sound servers' tests run afterwards: they check what a runner hears
# with both cores kept busy, and a machine loaded past that by the other tests' renders and
# browser made PulseAudio's and PipeWire's own threads drop out. First the minute of play through
# both servers at once with both cores busy, alone; then the servers' other tests side by side
# with the footpod's (bluezoo, a Python process, answered too late under the first phase's load
# for the states they script).
groups=(
  'StrideCueALSATests\.ALSATests/Remote(Page|Security)Tests/'
  'StrideCueALSATests\.ALSATests/'
  'StrideCueCLITests\.ExportSafetyTests/'
  'StrideCueCLITests\.(Export|M4A|LongTrack)'
  'StrideCueCLITests\.'
)
soak='StrideCueALSATests\.ALSATests/SoundServerTests/steadyUnderLoad'
last='StrideCueALSATests\.ALSATests/(SoundServerTests|SensorCommandTests)/'

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
status=0

# Runs the bundle with ARGUMENTS, its output in LOG; prints the log with NAME when it ends.
start_group() {
  local log=$1; shift
  "$bundle" --testing-library swift-testing "$@" > "$log" 2>&1 &
}
finish_group() {
  local pid=$1 log=$2 name=$3 code
  wait "$pid"; code=$?
  echo "=== tests: $name (exit $code)"
  cat "$log"
  [ $code -ne 0 ] && status=1
  return 0
}

pids=() names=() files=()
skip=(--skip "$last")
for i in "${!groups[@]}"; do
  start_group "$logs/$i.log" --filter "${groups[$i]}" "${skip[@]}"
  pids+=($!) names+=("${groups[$i]}") files+=("$logs/$i.log")
  skip+=(--skip "${groups[$i]}")
done
start_group "$logs/rest.log" "${skip[@]}"
pids+=($!) names+=("the rest") files+=("$logs/rest.log")
for i in "${!pids[@]}"; do finish_group "${pids[$i]}" "${files[$i]}" "${names[$i]}"; done

start_group "$logs/soak.log" --filter "$soak"
finish_group $! "$logs/soak.log" "$soak"
start_group "$logs/last.log" --filter "$last" --skip "$soak"
finish_group $! "$logs/last.log" "$last"
exit $status
