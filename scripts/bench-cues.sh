#!/bin/sh
# Spoken-cue benchmarks, on a release build:
#   1. time to synthesize every cue (spoken count-ins and cautions included) of every shipped
#      preset, one process per preset, so nothing is shared between presets;
#   2. render time of a 10-minute track at 180 spm with a two-step cue every 4 steps, against
#      the same track without cues (target: at most 1.5 times).
# Times come from the binary's own STRIDECUE_TIMING line: "mixing" is the renderer alone,
# "render" adds writing the file. Each render is run $RUNS times; the median is printed.
#
# Usage: scripts/bench-cues.sh [path/to/stridecue]
#   default binary: .build-speech/release/stridecue  (swift build -c release --scratch-path .build-speech)
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$here/.build-speech/release/stridecue}
RUNS=${RUNS:-5}
[ -x "$bin" ] || { echo "bench-cues: no binary at $bin; build it with: swift build -c release --scratch-path .build-speech" >&2; exit 1; }

# The 10-minute renders are 58 MB each (mono, 16-bit): keep them in memory when possible,
# and always delete them.
base=/dev/shm
[ -d "$base" ] && [ -w "$base" ] || base=${TMPDIR:-/tmp}
tmp=$(mktemp -d "$base/stridecue-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

export STRIDECUE_DATA="$here"

# "stridecue: timing: cues 52 ms (2 syntheses, 3 cache hits), mixing 40 ms, render and write 95 ms"
field() { sed -n "s/.*$1 \([0-9][0-9]*\) ms.*/\1/p"; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

echo "Synthesis of every cue of every shipped preset (release build, one process per preset)"
total=0
for preset in "$here"/Presets/*.yaml; do
    name=$(basename "$preset" .yaml)
    # A 1 ms cap: the whole plan's cues are still made and checked, almost nothing is rendered.
    line=$(STRIDECUE_TIMING=1 "$bin" render "$name" --duration 0.001 --quiet -o "$tmp/cap.wav" 2>&1 >/dev/null | grep 'timing:')
    ms=$(echo "$line" | field cues)
    calls=$(echo "$line" | sed -n 's/.*(\([0-9]*\) syntheses.*/\1/p')
    printf '  %-22s %6d ms  (%d flite syntheses)\n' "$name" "$ms" "$calls"
    total=$((total + ms))
done
printf '  %-22s %6d ms\n' "all presets" "$total"

cat > "$tmp/plain.yaml" <<'EOF'
name: Ten minutes
cadence: 180
set: {duration: 10 min}
EOF
cat > "$tmp/cued.yaml" <<'EOF'
name: Ten minutes with cues
cadence: 180
set: {duration: 10 min}
cues:
  - {say: pull through, every: 4}
EOF

render() {
    for _ in $(seq "$RUNS"); do
        STRIDECUE_TIMING=1 "$bin" render "$tmp/$1.yaml" --channels 1 --quiet -o "$tmp/out.wav" 2>&1 >/dev/null | grep 'timing:'
        rm -f "$tmp/out.wav"
    done
}
render plain > "$tmp/plain.txt"
render cued > "$tmp/cued.txt"
plain_mix=$(field mixing < "$tmp/plain.txt" | median)
cued_mix=$(field mixing < "$tmp/cued.txt" | median)
plain_all=$(field write < "$tmp/plain.txt" | median)
cued_all=$(field write < "$tmp/cued.txt" | median)
cued_prep=$(field cues < "$tmp/cued.txt" | median)

echo
echo "10-minute track, 180 spm, 48 kHz mono 16-bit; a 2-step cue every 4 steps (450 cues); median of $RUNS"
printf '  %-26s %6s %8s\n' "" "mixing" "render"
printf '  %-26s %5d ms %5d ms\n' "without cues" "$plain_mix" "$plain_all"
printf '  %-26s %5d ms %5d ms   (+ %d ms to synthesize the cue)\n' "with a cue every 4 steps" "$cued_mix" "$cued_all" "$cued_prep"
awk -v a="$cued_mix" -v b="$plain_mix" -v c="$cued_all" -v d="$plain_all" 'BEGIN {
    printf "  ratio: mixing %.2fx, render %.2fx (target <= 1.5x)\n", a / (b > 0 ? b : 1), c / (d > 0 ? d : 1) }'
