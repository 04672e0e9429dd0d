#!/usr/bin/env bash
# make bench, Ableton Link (`play --link`, docs/link.md), on the paced fake card:
#   click offset: two `play --link` processes on one host, each on its own paced card that
#     records when it played each frame; every click of one against the nearest of the other's
#     at the same host time, median and max (target <= 1 ms)
#   the same across two network namespaces with 20 +- 5 ms each way between them (as root)
#   tempo change to the first click at the new tempo: a C++ Link peer (Tests/Link/peer.cpp,
#     built here with g++) changes the session's tempo BENCH_LINK_CHANGES times, 3 s apart;
#     from each change to the first step of device A heard at the new tempo, median and max
#     (at most a step plus the buffer)
#   CPU per minute of `play --link` against `play`, BENCH_CPU_RUNS runs each (medians)
# BENCH_LINK_SECONDS (default 40) sets the length of the runs.
set -euo pipefail
bin=${1:-.build/release/stridecue}
seconds=${BENCH_LINK_SECONDS:-40}
changes=${BENCH_LINK_CHANGES:-8}
cpu_runs=${BENCH_CPU_RUNS:-3}
. "$(dirname "$0")/live-bench.sh"
live_bench_setup link

[ -r /usr/include/ableton/Link.hpp ] || { echo "bench-link.sh: ableton-link-dev is not installed (make bench-deps)" >&2; exit 1; }
g++ -std=c++17 -O2 -DLINK_PLATFORM_LINUX=1 -pthread "$root/Tests/Link/peer.cpp" -o "$work/peer"

# The peer leads at 180 and waits for both devices; then changes tempo every 3 s.
steps=("peers:2" "sleep:2")
for i in $(seq "$changes"); do
  if [ $((i % 2)) = 1 ]; then steps+=("tempo:190"); else steps+=("tempo:180"); fi
  steps+=("sleep:3")
done
steps+=(quit)
"$work/peer" 180 "${steps[@]}" > "$work/peer.out" &
bench_pids+=("$!")
peer=$!
link_play() {
  "$bin" play --link --no-keys --spm 170 --duration "${seconds}s" --latency 100 \
    --device "paced:FILE='$work/$1.raw',TIMES='$work/$1.times'" 2>"$work/$1.err" >/dev/null
}
link_play a & a=$!
link_play b & b=$!
wait "$a" "$b" || { cat "$work"/a.err "$work"/b.err >&2; exit 1; }
wait "$peer" || { echo "bench-link.sh: the peer failed" >&2; exit 1; }
read -r _ off_median off_max off_count _ < <(python3 "$root/scripts/link-clicks.py" \
  "$work/a.raw" "$work/a.times" "$work/b.raw" "$work/b.times" "$work/peer.out" | grep '^offset')
change_line=$(python3 "$root/scripts/link-clicks.py" "$work/a.raw" "$work/a.times" "$work/b.raw" "$work/b.times" \
  "$work/peer.out" | grep '^change' || true)
read -r _ change_median change_max change_count <<<"${change_line:-change - - 0}"

# Across two network namespaces joined by a link with 20 ± 5 ms each way (a user-space bridge
# between two TAP devices, Tests/Link/delay-bridge.py; this kernel has no netem): root only.
far_line=""
if [ "$(id -u)" = 0 ] && command -v ip >/dev/null && [ -w /dev/net/tun ]; then
  ns=(stridecue-bench-$$-a stridecue-bench-$$-b)
  for n in "${ns[@]}"; do ip netns add "$n"; ip -n "$n" link set lo up; done
  python3 "$root/Tests/Link/delay-bridge.py" "bA$$" "bB$$" 20 5 "$work/bridge.ready" & bench_pids+=("$!")
  for _ in $(seq 100); do [ -e "$work/bridge.ready" ] && break; sleep 0.05; done
  for i in 0 1; do
    dev=$([ $i = 0 ] && echo "bA$$" || echo "bB$$")
    ip link set "$dev" netns "${ns[$i]}"
    ip -n "${ns[$i]}" addr add "10.80.0.$((i + 1))/24" dev "$dev"
    ip -n "${ns[$i]}" link set "$dev" up
  done
  far_play() {
    ip netns exec "$2" "$bin" play --link --no-keys --spm 180 --duration "${seconds}s" --latency 100 \
      --device "paced:FILE='$work/$1.raw',TIMES='$work/$1.times'" 2>"$work/$1.err" >/dev/null
  }
  far_play fa "${ns[0]}" & fa=$!
  sleep 1
  far_play fb "${ns[1]}" & fb=$!
  wait "$fa" "$fb" || { cat "$work"/fa.err "$work"/fb.err >&2; }
  : > "$work/none.out"
  far_line=$(python3 "$root/scripts/link-clicks.py" "$work/fa.raw" "$work/fa.times" "$work/fb.raw" "$work/fb.times" \
    "$work/none.out" 3 | grep '^offset' || true)
  for n in "${ns[@]}"; do ip netns del "$n"; done
fi
read -r _ far_median far_max far_count <<<"${far_line:-offset - - 0}"

# CPU per minute, with and without --link (alone: no peer), the same session.
cpu_seconds=20
for _ in $(seq "$cpu_runs"); do
  cpu_of "$work/cpu-plain" "$bin" play --no-keys --spm 180 --duration "${cpu_seconds}s" --device paced
  cpu_of "$work/cpu-link" "$bin" play --link --no-keys --spm 180 --duration "${cpu_seconds}s" --device paced
done
per_minute() { median < "$1" | awk -v s="$cpu_seconds" '{ printf "%.3f", $1 * 60 / s }'; }

echo "== play --link (paced fake card, two devices on one host, a C++ Link peer)"
printf "  click offset between the devices:      median %s ms, max %s ms over %s clicks (target <= 1 ms)\n" \
  "$off_median" "$off_max" "$off_count"
printf "  across namespaces, 20 +- 5 ms each way: median %s ms, max %s ms over %s clicks (from 3 s after joining; root only)\n" \
  "$far_median" "$far_max" "$far_count"
printf "  peer's tempo change -> first click at it: median %s ms, max %s ms over %s changes\n" \
  "$change_median" "$change_max" "$change_count"
printf "  CPU per minute of play:                 %s s without --link, %s s with (alone)\n" \
  "$(per_minute "$work/cpu-plain")" "$(per_minute "$work/cpu-link")"
