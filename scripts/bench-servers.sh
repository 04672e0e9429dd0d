#!/usr/bin/env bash
# make bench, live playback through the sound servers runners have: a real PulseAudio and a real
# PipeWire (scripts/sound-server.sh, private folders, a sink on the system clock), ALSA's `default`
# going through each one's own ALSA plugin. For each server, with every core kept busy by ordinary
# processes, `stridecue play` soaks BENCH_SERVER_SECONDS (600: ten minutes) at the default settings
# while aplay plays as long through the same server with the same buffer and period
# (--buffer-time=100000 --period-time=5000) beside it; BENCH_SERVERS picks them ("pulse pipewire").
# Prints, per server:
#   underruns (target 0), "not responding" episodes (target 0), whether the session ended on time,
#   the device's delay as --verbose saw it, and CPU seconds per minute played against aplay's
#   (target <= 1.0x).
set -euo pipefail
bin=${1:-.build/release/stridecue}
seconds=${BENCH_SERVER_SECONDS:-600}
cores=$(nproc)
# $root, $work, median and cpu_of (the paced card it also sets up is not used here).
. "$(dirname "$0")/live-bench.sh"
live_bench_setup servers
servers=()
cleanup_servers() {
  for dir in "${servers[@]}"; do "$root/scripts/sound-server.sh" stop "$dir" || true; done
  live_bench_cleanup
}
trap cleanup_servers EXIT
# ALSA's stock configuration only: each server's .asoundrc (in its HOME) sends `default` to it.
unset ALSA_CONFIG_PATH

# in_background OUT command...: runs the command in the background, standard error to OUT.err; when
# it ends, its status to OUT.status and its CPU seconds (user + system, as its parent counts them,
# bash's `times`) to OUT.cpu.
in_background() {
  local out=$1; shift
  ( status=0; "$@" </dev/null >/dev/null 2>"$out.err" || status=$?; echo "$status" > "$out.status"
    times > "$out.times"
    tail -1 "$out.times" | awk '{ split($1,a,"m"); split($2,b,"m"); sub("s","",a[2]); sub("s","",b[2]);
      printf "%.4f\n", a[1]*60+a[2]+b[1]*60+b[2] }' > "$out.cpu" ) &
}
per_minute() { echo "$(cat "$1") * 60 / $seconds" | bc -l; }

printf '%-9s %9s %15s %9s %11s %14s %12s %6s %15s\n' server underruns "not responding" "ended" "delay ms" "stridecue/min" "aplay/min" ratio "aplay underruns"
for kind in ${BENCH_SERVERS:-pulse pipewire}; do
  dir="$work/$kind"
  servers+=("$dir")
  mapfile -t vars < <("$root/scripts/sound-server.sh" start "$kind" "$dir")
  busy=()
  for _ in $(seq "$cores"); do sh -c 'while :; do :; done' & busy+=($!); bench_pids+=($!); done
  start=$EPOCHREALTIME
  in_background "$work/aplay-$kind" env "${vars[@]}" aplay -D default -f S16_LE -r 48000 -c 2 \
    --buffer-time=100000 --period-time=5000 -d "$seconds" /dev/zero
  aplay_job=$!
  in_background "$work/play-$kind" env "${vars[@]}" STRIDECUE_TIMING=1 "$bin" play --spm 180 --duration "${seconds}s" \
    --no-keys --verbose
  play_job=$!
  wait "$play_job" || true
  took=$(echo "$EPOCHREALTIME - $start" | bc -l)
  wait "$aplay_job" || true
  for pid in "${busy[@]}"; do kill "$pid" 2>/dev/null || true; done
  "$root/scripts/sound-server.sh" stop "$dir"
  if [ "$(cat "$work/play-$kind.status")" != 0 ]; then
    echo "stridecue play through $kind failed:" >&2; cat "$work/play-$kind.err" >&2; continue
  fi
  line=$(grep 'stridecue: timing:' "$work/play-$kind.err" | tail -1)
  underruns=$(sed -n 's/.*underruns \([0-9]*\)$/\1/p' <<<"$line")
  stalls=$(sed -n 's/.*not responding \([0-9]*\) times.*/\1/p' <<<"$line")
  delay=$(sed -n "s/.*the device's delay, from a frame handed over to its being heard, was \(.*\) ms;.*/\1/p" "$work/play-$kind.err")
  sc=$(per_minute "$work/play-$kind.cpu")
  ap=$(per_minute "$work/aplay-$kind.cpu")
  # aplay says "underrun!!!" on standard error for each one.
  aplay_underruns=$(grep -c 'underrun' "$work/aplay-$kind.err" || true)
  printf '%-9s %9s %15s %9s %11s %14.4f %12.4f %5.2fx %15s\n' "$kind" "$underruns" "$stalls" \
    "+$(printf '%.2f' "$(echo "$took - $seconds" | bc -l)") s" "${delay:-?}" "$sc" "$ap" "$(echo "$sc / $ap" | bc -l)" "$aplay_underruns"
  [ "$(cat "$work/aplay-$kind.status")" = 0 ] || echo "  (aplay through $kind: $(tail -1 "$work/aplay-$kind.err"))"
done
