#!/usr/bin/env bash
# MP3 export of an 800 s track against the two-step way: render a WAV, then encode it with
# ffmpeg's libmp3lame. Alternating runs, medians, wall-time ratios (target: export <= 1.0x).
# Then the cost of music: a render with --music against the same render without (<= 1.5x).
#
# The export does more than the two-step way: it measures loudness (libebur128), searches the
# gain, limits true peaks and tags the file. The comparison is made twice: against ffmpeg's
# defaults (`-c:a libmp3lame`, as the issue states it) and against ffmpeg at the same VBR
# quality as the export's default (LAME -V3, `-q:a 3`), which is the like-for-like one.
set -euo pipefail
bin=${1:-.build/release/stridecue}
runs=${BENCH_RUNS:-5}
channels=${BENCH_CHANNELS:-2}
work=$(mktemp -d "${TMPDIR:-/tmp}/stridecue-bench-export.XXXXXX")
trap 'rm -rf "$work"' EXIT
export STRIDECUE_DATA=${STRIDECUE_DATA:-$(pwd)}
command -v ffmpeg >/dev/null || { echo "bench-export: ffmpeg is needed (apt-get install ffmpeg)" >&2; exit 1; }

# The default woodblock click at 180 spm, accents on one foot: the sparse, peaky track that
# needs the limiter to reach -16 LUFS (the hardest case for the export).
cat > "$work/long-run.yaml" <<'EOF'
name: Long run
cadence: 180
set: {duration: 800 s}
accent: 2
EOF

# Wall seconds of a command or shell function.
seconds() {
  local start end
  start=$(date +%s.%N)
  "$@" >/dev/null 2>&1
  end=$(date +%s.%N)
  echo "$end - $start" | bc -l
}
median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.3f", m}'; }
# in_turn A B: times shell functions A and B in turn, $runs times each, into $work/A and $work/B.
in_turn() {
  : > "$work/$1"; : > "$work/$2"
  for i in $(seq "$runs"); do
    seconds "$1" >> "$work/$1"
    seconds "$2" >> "$work/$2"
  done
}

export_mp3() {
  rm -rf "$work/out"   # a fresh folder, or the export would find the file up to date
  "$bin" export "$work/long-run.yaml" --to "$work/out" --channels "$channels" --quiet
}
two_step() {   # $1: extra ffmpeg flags
  "$bin" render "$work/long-run.yaml" --channels "$channels" -o "$work/b.wav" --quiet
  ffmpeg -nostdin -v error -y -i "$work/b.wav" -c:a libmp3lame $1 "$work/b.mp3"
}

: > "$work/export"; : > "$work/default"; : > "$work/q3"
for i in $(seq "$runs"); do
  seconds export_mp3 >> "$work/export"
  seconds two_step "" >> "$work/default"
  seconds two_step "-q:a 3" >> "$work/q3"
  rm -f "$work/b.wav" "$work/b.mp3"
done

e=$(median < "$work/export")
d=$(median < "$work/default")
q=$(median < "$work/q3")
size=$(stat -c %s "$work/out/long-run-180spm.mp3")
echo "800 s click track at 180 spm, 48 kHz, $channels channel(s); median of $runs alternating runs"
printf '  stridecue export (MP3 -V3, -16 LUFS, limited, tagged)   %6.3f s  (%d bytes)\n' "$e" "$size"
printf '  render WAV + ffmpeg -c:a libmp3lame (CBR default)       %6.3f s\n' "$d"
printf '  render WAV + ffmpeg -c:a libmp3lame -q:a 3 (-V3)        %6.3f s\n' "$q"
printf '  export / two-step, ffmpeg defaults    %5.2fx  (target <= 1.0x)\n' "$(echo "$e/$d" | bc -l)"
printf '  export / two-step, same VBR quality   %5.2fx  (target <= 1.0x)\n' "$(echo "$e/$q" | bc -l)"

# Music: `render tempo-run --music music.wav -o tr.mp3` against the same render without music
# (target <= 1.5x). The music is 4 minutes of stereo pink noise at 44.1 kHz, made by ffmpeg:
# dense like a song, so LAME works as hard on it as on real music, and its rate is converted.
ffmpeg -nostdin -v error -y -f lavfi -i "anoisesrc=d=240:c=pink:r=44100:a=0.3" -ac 2 "$work/music.wav"
with_music() { "$bin" render tempo-run --music "$work/music.wav" -o "$work/tr-music.mp3" --quiet; }
without_music() { "$bin" render tempo-run -o "$work/tr.mp3" --quiet; }
in_turn with_music without_music
m=$(median < "$work/with_music")
p=$(median < "$work/without_music")
echo "tempo-run (20 min, cues) to MP3, with and without --music; median of $runs alternating runs"
printf '  render tempo-run --music music.wav -o tr.mp3            %6.3f s\n' "$m"
printf '  render tempo-run -o tr.mp3                              %6.3f s\n' "$p"
printf '  music / no music                      %5.2fx  (target <= 1.5x)\n' "$(echo "$m/$p" | bc -l)"

# What LAME alone costs on each of the two mixes: both rendered to WAV at the MP3's loudness,
# then encoded by ffmpeg's libmp3lame at the same VBR quality. Music is dense where a click
# track is mostly silence, and LAME's work grows with what it has to code, so this ratio is
# the floor for any MP3 export that encodes on one thread.
"$bin" render tempo-run --music "$work/music.wav" -o "$work/mix-music.wav" --quiet
"$bin" render tempo-run --loudness -16 -o "$work/mix-plain.wav" --quiet
lame_music() { ffmpeg -nostdin -v error -y -i "$work/mix-music.wav" -c:a libmp3lame -q:a 3 "$work/lame-music.mp3"; }
lame_plain() { ffmpeg -nostdin -v error -y -i "$work/mix-plain.wav" -c:a libmp3lame -q:a 3 "$work/lame-plain.mp3"; }
in_turn lame_music lame_plain
lm=$(median < "$work/lame_music")
lp=$(median < "$work/lame_plain")
printf '  ffmpeg -c:a libmp3lame -q:a 3, the music mix              %6.3f s\n' "$lm"
printf '  ffmpeg -c:a libmp3lame -q:a 3, the click-track mix        %6.3f s\n' "$lp"
printf '  LAME alone, music / no music          %5.2fx  (the floor for one encoding thread)\n' "$(echo "$lm/$lp" | bc -l)"
# Where a render with music spends its time, phase by phase (one more run).
STRIDECUE_TIMING=1 "$bin" render tempo-run --music "$work/music.wav" -o "$work/tr-music.mp3" --quiet 2>&1 \
  | sed -n 's/.*; \(music .*\)$/  phases with music: \1/p'
STRIDECUE_TIMING=1 "$bin" render tempo-run -o "$work/tr.mp3" --quiet 2>&1 \
  | sed -n 's/.*ms; \(analysis .*\)$/  phases without:    \1/p'
