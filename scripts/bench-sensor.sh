#!/usr/bin/env bash
# make bench, the running sensor (issue 20): `stridecue play --sensor` on the paced fake sound
# card, reading the scripted footpod (Tests/Sensor/footpod.py) through bluezoo, a mock of BlueZ's
# D-Bus API, on a private dbus-daemon, as the sensor tests do. No Bluetooth hardware. Prints:
#   sensor notification -> first changed frame handed to ALSA, under `--feedback nudge` (median
#     and max of BENCH_NUDGES nudges): from the moment the footpod sent the first notification
#     of a cadence that makes the click move (its `sent ... at EPOCH` line) to the first frame of
#     the first step at the click's new tempo handed to ALSA (STRIDECUE_TIMING's report). The
#     click moves from a step boundary (the first step not yet handed to ALSA), so this holds
#     the decision's 100 ms sampling, up to one step's wait, and the frames already queued.
#   CPU seconds per minute played at 180 spm with a sensor notifying 4 times a second, against
#     without a sensor (the same session, run in turn BENCH_CPU_RUNS times, medians).
# BENCH_SENSOR_SECONDS (default 60) sets the length of the CPU runs, BENCH_CPU_RUNS (3), BENCH_NUDGES (12).
set -euo pipefail
bin=${1:-.build/release/stridecue}
seconds=${BENCH_SENSOR_SECONDS:-60}
cpu_runs=${BENCH_CPU_RUNS:-3}
nudges=${BENCH_NUDGES:-12}
# $root, $work, the paced fake card, median and cpu_of; what runs in the background goes in $bench_pids.
. "$(dirname "$0")/live-bench.sh"
live_bench_setup sensor
venv=${STRIDECUE_SENSOR_VENV:-$root/.build/sensor-venv}
[ -x "$venv/bin/bluezoo" ] || { echo "bench-sensor: no bluezoo in $venv: run 'make bench-deps'" >&2; exit 1; }

# The private system bus, for the whole benchmark.
export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$work/bus"
dbus-daemon --config-file="$root/Tests/Sensor/system-bus.conf" --address="$DBUS_SYSTEM_BUS_ADDRESS" --nofork 2>/dev/null &
bench_pids+=("$!")
wait_for() {  # wait_for WHAT COMMAND...: until the command succeeds, for at most 15 s
  local what=$1; shift
  for _ in $(seq 750); do "$@" && return 0; sleep 0.02; done
  echo "bench-sensor: gave up waiting for $what" >&2
  for log in pod.out nudge.err bluezoo.log; do
    [ -s "$work/$log" ] && { echo "--- $log" >&2; tail -n 15 "$work/$log" >&2; }
  done
  exit 1
}
wait_for "the bus" test -S "$work/bus"

# A world: bluezoo with two adapters and the footpod on the second, fresh for each session
# (bluezoo 1.0.2 cannot connect a device again after a Disconnect). The footpod reads its
# commands from the fifo $work/pod.in and says what it did in $work/pod.out.
world_start() {
  "$venv/bin/bluezoo" --auto-enable --scan-interval 1 -a 00:00:00:11:11:11 -a 00:00:00:22:22:22 \
    >/dev/null 2>"$work/bluezoo.log" &
  zoo=$!
  wait_for "bluezoo's adapters" "$venv/bin/python" -c '
import sdbus
objects = sdbus.DbusObjectManagerInterface("org.bluez", "/", sdbus.sd_bus_open_system()).get_managed_objects()
raise SystemExit(0 if sum(1 for i in objects.values() if i.get("org.bluez.Adapter1", {}).get("Powered", ("b", False))[1]) == 2 else 1)' 2>/dev/null
  rm -f "$work/pod.in" && mkfifo "$work/pod.in"
  : > "$work/pod.out"
  "$venv/bin/python" "$root/Tests/Sensor/footpod.py" /org/bluez/hci1 "Stride Pod" /org/bluez/hci0/dev_00_00_00_22_22_22 \
    <"$work/pod.in" >"$work/pod.out" 2>&1 &
  pod=$!
  exec 7>"$work/pod.in"
  wait_for "the footpod" grep -q '^ready' "$work/pod.out"
}
world_stop() {
  exec 7>&-
  kill "$pod" "$zoo" 2>/dev/null || true
  wait "$pod" "$zoo" 2>/dev/null || true
}
bench_pids_world() { bench_pids+=("$pod" "$zoo"); }
# said PREFIX: how many lines the footpod has said that start with PREFIX; more_than PREFIX N: more than N.
said() { grep -c "^$1" "$work/pod.out" || true; }
more_than() { [ "$(said "$1")" -gt "$2" ]; }
# pod COMMAND: tells the footpod, and waits until it says it did.
pod() {
  local before; before=$(said "${1%% *}")
  echo "$1" >&7
  wait_for "the footpod to $1" more_than "${1%% *}" "$before"
}
# measure CADENCE: the footpod notifies it from now on (to a client that asked for notifications);
# prints the epoch of its first notification.
measure() {
  local before; before=$(said "sent ")
  pod "measure $1 3.0"
  wait_for "the footpod to send $1" more_than "sent " "$before"
  grep '^sent ' "$work/pod.out" | tail -1 | sed 's/.* at //'
}

# 1. Notification to sound. The runner is on target (180) when the session starts; at 140 the
#    click starts there (the first nudge); then, each time, the runner lags 10 spm behind the
#    click for 3.3 s (nudge waits 3 s after a move, and for the runner to catch up) and catches
#    up: that notification moves the click 2 % on, at once. Each notification that moved the
#    click is paired with the next new tempo handed to ALSA.
world_start
bench_pids_world
pod "measure 180 3.0"
STRIDECUE_TIMING=1 "$bin" play --spm 180 --duration 600s --device paced --no-keys --sensor auto --feedback nudge \
  </dev/null >/dev/null 2>"$work/nudge.err" &
player=$!
bench_pids+=("$player")
wait_for "the session to read the footpod" grep -q '^notifying' "$work/pod.out"
sleep 1
: > "$work/sent"
click=140
measure $click >> "$work/sent"
for _ in $(seq $((nudges - 1))); do
  sleep 0.3
  measure $((click - 10)) >/dev/null
  sleep 3.3
  measure $click >> "$work/sent"
  # Where nudge moves the click to from here: 2 % of it, in whole steps per minute (at least 1).
  click=$(echo "c = $click; s = c * 0.02; r = s + 0.5; scale = 0; r = r / 1; if (r < 1) r = 1; n = c + r; if (n > 180) n = 180; n" | bc)
  [ "$click" -lt 180 ] || break
done
sleep 1.5
kill -INT "$player" 2>/dev/null || true
wait "$player" 2>/dev/null || true
world_stop
sed -n 's/.*first step at the new tempo handed to ALSA at epoch \([0-9.]*\) s.*/\1/p' "$work/nudge.err" > "$work/handed"
taken=$(wc -l < "$work/sent")
if [ "$(wc -l < "$work/handed")" -lt "$taken" ]; then
  echo "bench-sensor: $taken notifications moved the click but $(wc -l < "$work/handed") new tempos were handed to ALSA:" >&2
  cat "$work/nudge.err" >&2
  exit 1
fi
paste "$work/sent" <(head -n "$taken" "$work/handed") | awk '{ printf "%.1f\n", ($2 - $1) * 1000 }' > "$work/latency"
latency=$(median < "$work/latency" | xargs printf "%.1f")
latency_min=$(sort -n "$work/latency" | head -1)
latency_max=$(sort -n "$work/latency" | tail -1)
# The two parts: notification -> the player asking for the new cadence (the sensor's thread, the
# player's 100 ms sampling), and asked -> its first step handed to ALSA (the playback's wait for a step).
sed -n 's/.*nudge asked for .* spm at epoch \([0-9.]*\) s$/\1/p' "$work/nudge.err" | head -n "$taken" > "$work/asked"
paste "$work/sent" "$work/asked" | awk '{ printf "%.1f\n", ($2 - $1) * 1000 }' > "$work/to-asked"
paste "$work/asked" <(head -n "$taken" "$work/handed") | awk '{ printf "%.1f\n", ($2 - $1) * 1000 }' > "$work/to-handed"
part() { printf '%s ms median, %s-%s' "$(median < "$1" | xargs printf "%.1f")" "$(sort -n "$1" | head -1)" "$(sort -n "$1" | tail -1)"; }

# 2. CPU per minute, with the footpod notifying 180 spm four times a second and without a sensor,
#    in turn. The sensor's run includes finding and connecting it.
: > "$work/cpu-with" && : > "$work/cpu-without"
for _ in $(seq "$cpu_runs"); do
  world_start
  pod "measure 180 3.0"
  cpu_of "$work/cpu-with" "$bin" play --spm 180 --duration "${seconds}s" --device paced --no-keys --sensor auto \
    || { cat "$work/cpu.err" >&2; world_stop; exit 1; }
  world_stop
  cpu_of "$work/cpu-without" "$bin" play --spm 180 --duration "${seconds}s" --device paced --no-keys \
    || { cat "$work/cpu.err" >&2; exit 1; }
done
per_minute() { echo "$1 * 60 / $seconds" | bc -l | xargs printf "%.3f"; }
with=$(per_minute "$(median < "$work/cpu-with")")
without=$(per_minute "$(median < "$work/cpu-without")")

echo "stridecue play --sensor through bluezoo (BlueZ's D-Bus API, mocked) and the paced fake sound card, 48 kHz stereo, 100 ms buffer"
printf '  notification to sound      %6s ms   (median of %s nudges, min %s, max %s ms: footpod notification -> first frame of the first step at the nudged tempo handed to ALSA)\n' \
  "$latency" "$taken" "$latency_min" "$latency_max"
printf '  ... to the nudge asked for  %s ms;  asked for to handed to ALSA  %s ms\n' "$(part "$work/to-asked")" "$(part "$work/to-handed")"
printf '  CPU per minute, sensor     %6s s    (median of %s runs of %s s; a notification every 250 ms, finding and connecting included)\n' \
  "$with" "$cpu_runs" "$seconds"
printf '  ... without a sensor       %6s s    (stridecue %.2fx with the sensor)\n' "$without" "$(echo "$with / $without" | bc -l)"
