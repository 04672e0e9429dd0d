#!/usr/bin/env bash
# make bench, live playback: `stridecue play` through the paced fake sound card
# (Tests/FakeDevice/stridecue_fake.c, built here with gcc), which consumes frames on the real
# clock as a sound card does, so this runs on machines without sound hardware. Prints:
#   CPU seconds per minute played, 48 kHz stereo, default settings, against aplay with the same
#     period, buffer and wake-up point on the same card, the two run in turn BENCH_CPU_RUNS times
#     (medians), whole runs and without the start-up (target <= 1.0x aplay)
#   process start -> first frame handed to ALSA                     (target <= 50 ms)
#   peak RSS while playing                                          (target <= 24 MiB)
#   key to sound: a tempo key typed into a pseudo-terminal -> the first frame of the first step
#     at the new tempo handed to ALSA (scripts/key-to-sound.py), median and max of BENCH_KEYS keys
#   soak: underruns at the default settings (100 ms buffer that grows after a dropout) with
#     every core kept busy by other processes, and the buffer it ended with  (target 0); aplay
#     plays on its own paced card with the same buffer meanwhile: CPU per minute of both
# BENCH_PLAY_SECONDS (default 60) sets the length of the idle runs, BENCH_SOAK_SECONDS (600,
# ten minutes) the soak, BENCH_RUNS (7) the start-up runs, BENCH_CPU_RUNS (3), BENCH_KEYS (20).
set -euo pipefail
bin=${1:-.build/release/stridecue}
seconds=${BENCH_PLAY_SECONDS:-60}
soak=${BENCH_SOAK_SECONDS:-600}
runs=${BENCH_RUNS:-7}
cpu_runs=${BENCH_CPU_RUNS:-3}
keys=${BENCH_KEYS:-20}
cores=$(nproc)
# $root, $work, the paced fake card, median and cpu_of; the busy loops go in $bench_pids.
. "$(dirname "$0")/live-bench.sh"
live_bench_setup play
median1() { median | xargs printf "%.1f"; }
# The underrun count from the STRIDECUE_TIMING line ("...; underruns N").
underruns() { sed -n 's/.*underruns \([0-9]*\)$/\1/p' "$1" | tail -1; }
# One line from --verbose: what scheduling the playback thread got.
scheduling() { sed -n 's/^stridecue: playback thread: //p' "$1" | tail -1; }

play() {  # play SECONDS [env...]: plays a plain 180 spm track on the paced card
  local length=$1; shift
  env STRIDECUE_TIMING=1 "$@" "$bin" play --spm 180 --duration "${length}s" --device paced --no-keys --verbose </dev/null
}

# 1. CPU time and peak RSS over a whole run, idle machine: stridecue and aplay in turn, so that
#    what else the machine does falls on both alike. CPU time is the process's user + system
#    time as its parent sees it (bash's `times`, to the millisecond), the same account for both.
#    The peer: aplay writing silence to the same card with the same period, buffer and wake-up
#    point (-A: woken when half the buffer is free, as stridecue asks). Each wake-up costs the
#    same poll, timer and alsa-lib work whoever writes, so this is close to the floor. A run of
#    a hundredth of a second gives each one's start-up, which the per-minute figures without
#    start-up leave out (what a long session costs).
aplay_args=(-q -D paced -f S16_LE -r 48000 -c 2 --period-time=5000 --buffer-time=100000 -A 50000)
/usr/bin/time -f "%U %S %M %e" -o "$work/time" \
  env STRIDECUE_TIMING=1 "$bin" play --spm 180 --duration "${seconds}s" --device paced --no-keys </dev/null 2>"$work/idle.err" \
  || { cat "$work/idle.err" >&2; exit 1; }
read -r user sys rss wall < <(tail -1 "$work/time")
idle=$(underruns "$work/idle.err")
have_aplay=""
command -v aplay >/dev/null && have_aplay=1
for _ in $(seq "$cpu_runs"); do
  cpu_of "$work/cpu-sc" "$bin" play --spm 180 --duration "${seconds}s" --device paced --no-keys || true
  if [ -n "$have_aplay" ]; then cpu_of "$work/cpu-ap" aplay "${aplay_args[@]}" -d "$seconds" /dev/zero || true; fi
  cpu_of "$work/start-sc" "$bin" play --spm 180 --duration 0.01s --device paced --no-keys || true
  if [ -n "$have_aplay" ]; then cpu_of "$work/start-ap" aplay "${aplay_args[@]}" -s 480 /dev/zero || true; fi
done
per_minute() { echo "$1 * 60 / $seconds" | bc -l; }
cpu=$(median < "$work/cpu-sc")
cpu_start=$(median < "$work/start-sc")
cpu_per_minute=$(per_minute "$(median < "$work/cpu-sc")")
cpu_steady=$(per_minute "$(echo "$(median < "$work/cpu-sc") - $cpu_start" | bc -l)")
floor=""
if [ -n "$have_aplay" ]; then
  acpu_start=$(median < "$work/start-ap")
  floor=$(per_minute "$(median < "$work/cpu-ap")")
  floor_steady=$(per_minute "$(echo "$(median < "$work/cpu-ap") - $acpu_start" | bc -l)")
fi

# 2. Start-up: from just before exec (bash's clock) to the first frame handed to ALSA; then
#    the same with the CPU to itself (SCHED_FIFO from exec, where allowed), as on an idle machine.
startup_runs() {  # startup_runs FILE [prefix command...]
  local out=$1; shift
  for i in $(seq "$runs"); do
    start=$EPOCHREALTIME
    env STRIDECUE_TIMING=1 "$@" "$bin" play --spm 180 --duration 0.2s --device paced --no-keys </dev/null 2>"$work/start.err" >/dev/null
    first=$(sed -n 's/.*first frame handed to ALSA at epoch \([0-9.]*\) s.*/\1/p' "$work/start.err")
    echo "($first - $start) * 1000" | bc -l >> "$out"
  done
}
startup_runs "$work/startup"
startup=$(median1 < "$work/startup")
startup_max=$(sort -n "$work/startup" | tail -1 | xargs printf "%.1f")
alone=""
if chrt -f 1 true 2>/dev/null; then
  startup_runs "$work/startup-alone" chrt -f 1
  alone=$(median1 < "$work/startup-alone")
fi

# 3. Key to sound, idle machine: tempo keys typed into play's terminal (a pseudo-terminal).
key_median="" key_max=""
if command -v python3 >/dev/null; then
  if python3 "$root/scripts/key-to-sound.py" "$bin" "$keys" > "$work/keys" 2>"$work/keys.err"; then
    key_median=$(median1 < "$work/keys")
    key_min=$(sort -n "$work/keys" | head -1)
    key_max=$(sort -n "$work/keys" | tail -1)
  else
    cat "$work/keys.err" >&2
  fi
fi

# 4. Underruns with every core busy (one busy-looping process per core), with the real-time
#    scheduling the system grants, then without asking for any (what an ordinary user gets
#    where RLIMIT_RTPRIO is 0). aplay plays on its own paced card with the same buffer for the
#    same time meanwhile, so both see the same load.
for _ in $(seq "$cores"); do (while :; do :; done) & bench_pids+=("$!"); done
soak_aplay=""
if [ -n "$have_aplay" ]; then
  { cpu_of "$work/soak-ap" aplay "${aplay_args[@]}" -d "$soak" /dev/zero || true; } &
  soak_aplay=$!
fi
play "$soak" 2>"$work/busy.err" >/dev/null
if [ -n "$soak_aplay" ]; then wait "$soak_aplay"; fi
busy=$(underruns "$work/busy.err")
busy_sched=$(scheduling "$work/busy.err")
busy_cpu=$(sed -n 's/.*; CPU \([0-9.]*\) s;.*/\1/p' "$work/busy.err" | tail -1)
busy_buffer=$(sed -n 's/.*the buffer grew from .* to \([0-9]*\) ms$/\1/p' "$work/busy.err" | tail -1)
busy_buffer=${busy_buffer:-100}
play "$seconds" STRIDECUE_NO_REALTIME=1 2>"$work/busy-nort.err" >/dev/null
busy_nort=$(underruns "$work/busy-nort.err")
for pid in "${bench_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
bench_pids=()

echo "stridecue play through the paced fake sound card, 48 kHz stereo, default settings: 5 ms periods in a 100 ms buffer, woken every 50 ms"
printf '  CPU per minute played      %6.3f s    (median of %s runs of %s s; GNU time said %s s user + %s s sys for one more)\n' \
  "$cpu_per_minute" "$cpu_runs" "$seconds" "$user" "$sys"
[ -z "$floor" ] || printf '  ... aplay, same card        %6.3f s    (stridecue %.2fx; same period, buffer and wake-up point; run in turn)\n' \
  "$floor" "$(echo "$cpu_per_minute / $floor" | bc -l)"
printf '  ... without the start-up   %6.3f s    (start-up %.1f ms of CPU' "$cpu_steady" "$(echo "$cpu_start * 1000" | bc -l)"
[ -z "$floor" ] || printf '; aplay %.3f s, start-up %.1f ms; stridecue %.2fx' \
  "$floor_steady" "$(echo "$acpu_start * 1000" | bc -l)" "$(echo "$cpu_steady / $floor_steady" | bc -l)"
printf ')\n'
printf '  start to first frame       %6s ms   (target <= 50; median of %s, max %s ms; load average %s)\n' \
  "$startup" "$runs" "$startup_max" "$(cut -d' ' -f1 /proc/loadavg)"
[ -z "$alone" ] || printf '  ... with the CPU to itself %6s ms   (SCHED_FIFO from exec, as on an idle machine)\n' "$alone"
printf '  peak RSS                   %6.1f MiB  (target <= 24)\n' "$(echo "$rss/1024" | bc -l)"
printf '  underruns, idle            %6s      in %s s\n' "$idle" "$seconds"
if [ -n "$key_median" ]; then
  printf '  key to sound               %6s ms   (median of %s tempo keys at 180 spm, min %s, max %s ms: key typed -> first frame of the first step at the new tempo handed to ALSA; heard a buffer'"'"'s fill, 50-100 ms, later)\n' \
    "$key_median" "$keys" "$key_min" "$key_max"
else
  echo "  key to sound: not measured (python3 missing or play failed)"
fi
printf '  soak, %s cores busy         %6s      underruns in %s s (target 0); buffer at the end %s ms; CPU %s s per minute' \
  "$cores" "$busy" "$soak" "$busy_buffer" "$(echo "${busy_cpu:-0} * 60 / $soak" | bc -l | xargs printf '%.3f')"
if [ -n "$soak_aplay" ]; then
  soak_ap=$(tail -1 "$work/soak-ap")
  printf '; aplay meanwhile %.3f s (stridecue %.2fx)' "$(echo "$soak_ap * 60 / $soak" | bc -l)" "$(echo "${busy_cpu:-0} / $soak_ap" | bc -l)"
fi
printf '; playback thread: %s\n' "$busy_sched"
printf '  underruns, busy, no RT     %6s      in %s s (informative: no SCHED_FIFO, no mlockall)\n' "$busy_nort" "$seconds"
