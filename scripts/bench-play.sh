#!/usr/bin/env bash
# make bench, live playback: `stridecue play` through the paced fake sound card
# (Tests/FakeDevice/stridecue_fake.c, built here with gcc), which consumes frames on the real
# clock as a sound card does, so this runs on machines without sound hardware. Prints:
#   CPU seconds per minute played, 48 kHz stereo, default settings, against aplay with the same
#     period, buffer and wake-up point on the same card              (target <= 1.0x aplay)
#   process start -> first frame handed to ALSA                     (target <= 50 ms)
#   peak RSS while playing                                          (target <= 24 MiB)
#   soak: underruns at the default settings (100 ms buffer that grows after a dropout) with
#     every core kept busy by other processes, and the buffer it ended with  (target 0)
# BENCH_PLAY_SECONDS (default 60) sets the length of the idle runs, BENCH_SOAK_SECONDS (600,
# ten minutes) the soak, BENCH_RUNS (7) the start-up runs.
set -euo pipefail
bin=${1:-.build/release/stridecue}
seconds=${BENCH_PLAY_SECONDS:-60}
soak=${BENCH_SOAK_SECONDS:-600}
runs=${BENCH_RUNS:-7}
root=$(cd "$(dirname "$0")/.." && pwd)
cores=$(nproc)
work=$(mktemp -d "${TMPDIR:-/tmp}/stridecue-bench-play.XXXXXX")
load=()
cleanup() {
  for pid in "${load[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
export STRIDECUE_DATA=${STRIDECUE_DATA:-$root}

# The paced fake card, and a private ALSA configuration that defines `paced` (Tests/ALSA/test.conf).
gcc -O2 -DPIC -shared -fPIC -I"$root/Tests/FakeDevice/include" \
  -o "$work/libasound_module_pcm_stridecue_fake.so" "$root/Tests/FakeDevice/stridecue_fake.c" -lasound
stock=/usr/share/alsa/alsa.conf
[ -r "$stock" ] || { echo "bench-play: $stock not found (alsa-lib's configuration)" >&2; exit 1; }
export ALSA_CONFIG_PATH="$stock:$root/Tests/ALSA/test.conf"
export STRIDECUE_FAKE_LIB="$work/libasound_module_pcm_stridecue_fake.so"

median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.1f", m}'; }
# The underrun count from the STRIDECUE_TIMING line ("...; underruns N").
underruns() { sed -n 's/.*underruns \([0-9]*\)$/\1/p' "$1" | tail -1; }
# One line from --verbose: what scheduling the playback thread got.
scheduling() { sed -n 's/^stridecue: playback thread: //p' "$1" | tail -1; }

play() {  # play SECONDS [env...]: plays a plain 180 spm track on the paced card
  local length=$1; shift
  env STRIDECUE_TIMING=1 "$@" "$bin" play --spm 180 --duration "${length}s" --device paced --no-keys --verbose </dev/null
}

# 1. CPU time and peak RSS over a whole run, idle machine. The CPU time is the process's own
#    CLOCK_PROCESS_CPUTIME_ID at the end (the "CPU" of the STRIDECUE_TIMING line): the same
#    account as GNU time's user + system, to the microsecond instead of 10 ms.
/usr/bin/time -f "%U %S %M %e" -o "$work/time" \
  env STRIDECUE_TIMING=1 "$bin" play --spm 180 --duration "${seconds}s" --device paced --no-keys </dev/null 2>"$work/idle.err" \
  || { cat "$work/idle.err" >&2; exit 1; }
read -r user sys rss wall < <(tail -1 "$work/time")
idle=$(underruns "$work/idle.err")
cpu=$(sed -n 's/.*; CPU \([0-9.]*\) s;.*/\1/p' "$work/idle.err" | tail -1)
cpu_per_minute=$(echo "$cpu * 60 / $seconds" | bc -l)

# The peer: aplay writing silence to the same card with the same period, buffer and wake-up
# point (-A: woken when half the buffer is free, as stridecue asks). Each wake-up costs the
# same poll, timer and alsa-lib work whoever writes, so this is close to the floor. (perf's
# task-clock reads lower for both: it leaves out part of the cost of being woken.)
floor=""
if command -v aplay >/dev/null; then
  /usr/bin/time -f "%U %S" -o "$work/aplay" aplay -q -D paced -f S16_LE -r 48000 -c 2 \
    --period-time=5000 --buffer-time=100000 -A 50000 -d "$seconds" /dev/zero 2>/dev/null || true
  acpu=$(tail -1 "$work/aplay" | awk '{print $1 + $2}')
  floor=$(echo "$acpu * 60 / $seconds" | bc -l)
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
startup=$(median < "$work/startup")
startup_max=$(sort -n "$work/startup" | tail -1 | xargs printf "%.1f")
alone=""
if chrt -f 1 true 2>/dev/null; then
  startup_runs "$work/startup-alone" chrt -f 1
  alone=$(median < "$work/startup-alone")
fi

# 3. Underruns with every core busy (one busy-looping process per core), with the real-time
#    scheduling the system grants, then without asking for any (what an ordinary user gets
#    where RLIMIT_RTPRIO is 0).
for _ in $(seq "$cores"); do (while :; do :; done) & load+=("$!"); done
play "$soak" 2>"$work/busy.err" >/dev/null
busy=$(underruns "$work/busy.err")
busy_sched=$(scheduling "$work/busy.err")
busy_cpu=$(sed -n 's/.*; CPU \([0-9.]*\) s;.*/\1/p' "$work/busy.err" | tail -1)
busy_buffer=$(sed -n 's/.*the buffer grew from .* to \([0-9]*\) ms$/\1/p' "$work/busy.err" | tail -1)
busy_buffer=${busy_buffer:-100}
play "$seconds" STRIDECUE_NO_REALTIME=1 2>"$work/busy-nort.err" >/dev/null
busy_nort=$(underruns "$work/busy-nort.err")
for pid in "${load[@]}"; do kill "$pid" 2>/dev/null || true; done
load=()

echo "stridecue play through the paced fake sound card, 48 kHz stereo, default settings: 5 ms periods in a 100 ms buffer, woken every 50 ms"
printf '  CPU per minute played      %6.3f s    (target <= 0.6; %s s over %s s; GNU time says %s s user + %s s sys)\n' \
  "$cpu_per_minute" "$cpu" "$seconds" "$user" "$sys"
[ -n "$floor" ] && printf '  ... aplay, same card        %6.3f s    (stridecue %.2fx; same period, buffer and wake-up point)\n' \
  "$floor" "$(echo "$cpu_per_minute / $floor" | bc -l)"
printf '  start to first frame       %6s ms   (target <= 50; median of %s, max %s ms; load average %s)\n' \
  "$startup" "$runs" "$startup_max" "$(cut -d' ' -f1 /proc/loadavg)"
[ -n "$alone" ] && printf '  ... with the CPU to itself %6s ms   (SCHED_FIFO from exec, as on an idle machine)\n' "$alone"
printf '  peak RSS                   %6.1f MiB  (target <= 24)\n' "$(echo "$rss/1024" | bc -l)"
printf '  underruns, idle            %6s      in %s s\n' "$idle" "$seconds"
printf '  soak, %s cores busy         %6s      underruns in %s s (target 0); buffer at the end %s ms; CPU %s s per minute; playback thread: %s\n' \
  "$cores" "$busy" "$soak" "$busy_buffer" "$(echo "${busy_cpu:-0} * 60 / $soak" | bc -l | xargs printf '%.3f')" "$busy_sched"
printf '  underruns, busy, no RT     %6s      in %s s (informative: no SCHED_FIFO, no mlockall)\n' "$busy_nort" "$seconds"
echo "  key to sound: not measured here yet (README: at most one buffer plus one step)"
