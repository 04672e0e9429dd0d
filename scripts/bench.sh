#!/usr/bin/env bash
# make bench: StrideCue's render of an 800 s track against Klick and against dd writing the same
# number of bytes (the floor: just putting the bytes on disk), alternating runs, medians reported.
# StrideCue's file is durable when it returns (fsync before the rename), so its peers are made
# durable too: Klick followed by an fsync of its file (coreutils `sync FILE`), and dd conv=fsync.
# Run it on a disk, not a tmpfs, for the durable figures to mean anything (BENCH_DIR=…).
set -euo pipefail
bin=${1:-.build/release/stridecue}
runs=${BENCH_RUNS:-7}
work=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/stridecue-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
export STRIDECUE_DATA=${STRIDECUE_DATA:-$(pwd)}

# Runs a command under GNU time; appends "seconds peakKiB" to the named file. The wall time is
# taken around it from bash's microsecond clock (GNU time's %e has only 10 ms steps, a third of
# the dd floor); time's own fork and exec are in it for every command alike.
measure() {
  local out=$1; shift
  local start=$EPOCHREALTIME
  /usr/bin/time -f "%M" -o "$work/t" "$@" >/dev/null 2>&1
  local end=$EPOCHREALTIME
  echo "$(echo "$end - $start" | bc -l) $(cat "$work/t")" >> "$work/$out"
}
median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.3f", m}'; }

"$bin" render --spm 180 --duration 800s --rate 48000 --channels 1 -o "$work/b.wav" --quiet
bytes=$(stat -c %s "$work/b.wav")
for i in $(seq "$runs"); do
  rm -f "$work"/a.wav "$work"/b.wav "$work"/c.bin; sync
  measure klick sh -c 'klick -W "$1" -r 48000 600 4/4 180 && sync "$1"' sh "$work/a.wav"
  rm -f "$work"/a.wav; sync
  measure stridecue "$bin" render --spm 180 --duration 800s --rate 48000 --channels 1 -o "$work/b.wav" --quiet
  rm -f "$work"/b.wav; sync
  measure dd dd if=/dev/zero of="$work/c.bin" bs=1M count="$bytes" iflag=count_bytes conv=fsync
done

k=$(cut -d' ' -f1 "$work/klick" | median)
s=$(cut -d' ' -f1 "$work/stridecue" | median)
d=$(cut -d' ' -f1 "$work/dd" | median)
rss=$(cut -d' ' -f2 "$work/stridecue" | sort -n | tail -1)
krss=$(cut -d' ' -f2 "$work/klick" | sort -n | tail -1)
echo "800 s click track, 48 kHz mono 16-bit ($bytes bytes), durable, median of $runs alternating runs in $(df -T "$work" | awk 'NR==2 {print $2}')"
printf '  klick -W + fsync         %6.3f s   peak RSS %6.1f MiB\n' "$k" "$(echo "$krss/1024" | bc -l)"
printf '  stridecue render         %6.3f s   peak RSS %6.1f MiB (target <= 24)\n' "$s" "$(echo "$rss/1024" | bc -l)"
printf '  dd conv=fsync (floor)    %6.3f s\n' "$d"
printf '  stridecue / klick+fsync  %6.2fx  (target <= 0.33x)\n' "$(echo "$s/$k" | bc -l)"
printf '  stridecue / dd fsync     %6.2fx  (target <= 1.2x)\n' "$(echo "$s/$d" | bc -l)"

# Onset accuracy at 173 spm over the same length: Klick accumulates whole-frame beat lengths.
klick -W "$work/k173.wav" -r 48000 577 4/4 173 >/dev/null 2>&1
"$bin" render --spm 173 --duration 800s --rate 48000 --channels 1 --sound beep -o "$work/s173.wav" --quiet
if python3 -c "import numpy" 2>/dev/null; then
  echo "Timing at 173 spm (onsets, first click as reference):"
  python3 scripts/onset-drift.py "$work/k173.wav" 173 | sed 's/^/  klick:     /'
  python3 scripts/onset-drift.py "$work/s173.wav" 173 | sed 's/^/  stridecue: /'
fi
