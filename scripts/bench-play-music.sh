#!/usr/bin/env bash
# make bench, live playback with music: `stridecue play --music` through the paced fake sound
# card (Tests/FakeDevice, built by scripts/fake-card.sh), which consumes frames on the real clock
# as a sound card does. Prints CPU seconds per minute played, 48 kHz stereo, default settings:
#   play --music FILE   (the music decoded, measured, mixed, ducked and limited live)
#   play                (the same session without music)
#   aplay               (the peer: the rendered track with its music, `render --music FILE
#                        --no-normalize`, played from a WAV on the same card with the same
#                        period, buffer and wake-up point)
# each a whole run from exec to exit (start-up included: for play --music that is the music's
# decoding and its level's analysis), the three run in turn BENCH_CPU_RUNS times (medians);
# and the time from exec to the first frame handed to ALSA with and without music.
# The music: BENCH_MUSIC, or three minutes made by ffmpeg (pink noise and a chord, FLAC,
# 44.1 kHz: converted to 48 kHz as a phone's library would be).
# BENCH_PLAY_SECONDS (default 60) sets the length of the runs, BENCH_CPU_RUNS (3) their number.
set -euo pipefail
bin=${1:-.build/release/stridecue}
seconds=${BENCH_PLAY_SECONDS:-60}
cpu_runs=${BENCH_CPU_RUNS:-3}
# $root, $work, the paced fake card, median and cpu_of.
. "$(dirname "$0")/live-bench.sh"
live_bench_setup music

music=${BENCH_MUSIC:-$work/music.flac}
if [ -z "${BENCH_MUSIC:-}" ]; then
  ffmpeg -nostdin -v error -y -filter_complex \
    "anoisesrc=c=pink:r=44100:a=0.2:d=180[n];sine=f=220:r=44100:d=180[a];sine=f=277:r=44100:d=180[b];[n][a][b]amix=inputs=3,aformat=channel_layouts=stereo" \
    "$music"
fi

failed() { cat "$work/cpu.err" >&2; exit 1; }
session=(--spm 180 --duration "${seconds}s")
aplay_args=(-q -D paced --period-time=5000 --buffer-time=100000 -A 50000)
"$bin" render "${session[@]}" --music "$music" --no-normalize --quiet -o "$work/track.wav"

# From the STRIDECUE_TIMING line: ms from the command's start to the first frame handed to ALSA.
first_frame() { sed -n 's/.*s, \([0-9.]*\) ms after the command started.*/\1/p' "$work/cpu.err"; }
for _ in $(seq "$cpu_runs"); do
  cpu_of "$work/cpu-music" env STRIDECUE_TIMING=1 "$bin" play "${session[@]}" --music "$music" --device paced --no-keys || failed
  first_frame >> "$work/first-music"
  sed -n 's/.*music read and measured in .* CPU \([0-9.]*\) s by then.*/\1/p' "$work/cpu.err" >> "$work/ready-music"
  cpu_of "$work/cpu-plain" env STRIDECUE_TIMING=1 "$bin" play "${session[@]}" --device paced --no-keys || failed
  first_frame >> "$work/first-plain"
  if command -v aplay >/dev/null; then cpu_of "$work/cpu-aplay" aplay "${aplay_args[@]}" "$work/track.wav" || failed; fi
done

per_minute() { echo "$1 * 60 / $seconds" | bc -l; }
with_music=$(per_minute "$(median < "$work/cpu-music")")
plain=$(per_minute "$(median < "$work/cpu-plain")")
echo "stridecue play --music through the paced fake sound card, 48 kHz stereo, default settings, $seconds s, median of $cpu_runs runs in turn"
ready=$(median < "$work/ready-music")
printf '  CPU per minute, play --music   %6.3f s  (music: %s; %.3f s of it before the first frame: start-up, reading and measuring the music)\n' \
  "$with_music" "$(basename "$music")" "$ready"
printf '  ... after the first frame      %6.3f s  (the live mixing alone)\n' "$(per_minute "$(echo "$(median < "$work/cpu-music") - $ready" | bc -l)")"
printf '  ... play without music         %6.3f s  (play --music %.2fx)\n' "$plain" "$(echo "$with_music / $plain" | bc -l)"
if [ -s "$work/cpu-aplay" ]; then
  peer=$(per_minute "$(median < "$work/cpu-aplay")")
  printf '  ... aplay of the rendered WAV  %6.3f s  (play --music %.2fx; same card, period, buffer and wake-up point)\n' \
    "$peer" "$(echo "$with_music / $peer" | bc -l)"
fi
printf '  start to first frame           %6.1f ms with the music (decoded and measured first), %.1f ms without\n' \
  "$(median < "$work/first-music")" "$(median < "$work/first-plain")"
