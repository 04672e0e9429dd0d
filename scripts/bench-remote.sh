#!/usr/bin/env bash
# make bench, the coach's remote: `stridecue play --remote` on the paced fake sound card
# (as bench-play.sh), driven over loopback by scripts/remote-clients.py. Prints:
#   API call -> new cadence handed to ALSA, median and max of BENCH_CALLS calls (STRIDECUE_REMOTE_TIMING)
#   CPU per minute played: no remote (the peer: playback alone), remote with 1 page, with 50 clients
#   peak RSS with 50 clients                                          (target <= 64 MiB)
#   underruns in each run                                             (target 0)
#   render start-up and peak RSS, with the server linked in (it is never started by render)
# BENCH_BUILD=1 also times a clean release build of this tree and of the tree before the remote
# (the build time the remote adds; several minutes each on two cores).
set -euo pipefail
bin=${1:-.build/release/stridecue}
seconds=${BENCH_PLAY_SECONDS:-60}
calls=${BENCH_CALLS:-100}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/stridecue-bench-remote.XXXXXX")
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
export STRIDECUE_DATA=${STRIDECUE_DATA:-$root}
gcc -O2 -DPIC -shared -fPIC -I"$root/Tests/FakeDevice/include" \
  -o "$work/libasound_module_pcm_stridecue_fake.so" "$root/Tests/FakeDevice/stridecue_fake.c" -lasound
export ALSA_CONFIG_PATH="/usr/share/alsa/alsa.conf:$root/Tests/ALSA/test.conf"
export STRIDECUE_FAKE_LIB="$work/libasound_module_pcm_stridecue_fake.so"
clients="python3 $root/scripts/remote-clients.py"

# run NAME CLIENTS [remote]: plays a plain 180 spm track for $seconds; with "remote", serves the
# remote on a free port and starts CLIENTS WebSocket clients (0: none). Leaves NAME.err, NAME.time.
run() {
  local name=$1 n=$2 flag=${3:-}
  local args=(play --spm 180 --duration "${seconds}s" --device paced --no-keys)
  [ -n "$flag" ] && args+=(--remote 0)
  /usr/bin/time -f "%M" -o "$work/$name.time" env STRIDECUE_TIMING=1 STRIDECUE_REMOTE_TIMING=1 \
    "$bin" "${args[@]}" </dev/null >"$work/$name.out" 2>"$work/$name.err" &
  local pid=$!
  pids+=("$pid")
  if [ -n "$flag" ]; then
    for _ in $(seq 100); do grep -q '^Coach remote:' "$work/$name.out" && break; sleep 0.05; done
    local url; url=$(sed -n 's/^Coach remote: //p' "$work/$name.out")
    [ "$n" -gt 0 ] && $clients "$url" watch "$n" >"$work/$name.clients" &
    [ "$name" = latency ] && $clients "$url" cadence "$calls" 0.15 &
  fi
  wait "$pid" || { cat "$work/$name.err" >&2; exit 1; }
  wait
}
cpu() { sed -n 's/.*; CPU \([0-9.]*\) s;.*/\1/p' "$work/$1.err" | tail -1; }
per_minute() { echo "$(cpu "$1") * 60 / $seconds" | bc -l; }
underruns() { sed -n 's/.*underruns \([0-9]*\)$/\1/p' "$work/$1.err" | tail -1; }

run alone 0
run idle 0 remote
run page 1 remote
run fifty 50 remote
seconds_saved=$seconds; seconds=$(( calls * 15 / 100 + 3 )); run latency 0 remote; seconds=$seconds_saved

sed -n 's/.*handed to ALSA \([0-9.]*\) ms.*/\1/p' "$work/latency.err" | sort -n > "$work/lat"
n=$(wc -l < "$work/lat")
lat_median=$(awk '{a[NR]=$1} END {printf "%.2f", (NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2}' "$work/lat")
lat_max=$(tail -1 "$work/lat")

printf 'remote: API call -> new cadence handed to ALSA: median %s ms, max %s ms (%d calls, default 20 ms buffer)\n' "$lat_median" "$lat_max" "$n"
base=$(per_minute alone)
for r in idle page fifty; do
  label=$r; [ $r = idle ] && label="remote, no client"; [ $r = page ] && label="remote, 1 page"; [ $r = fifty ] && label="remote, 50 clients"
  pm=$(per_minute $r)
  printf 'remote: CPU per minute played, %-18s %.3f s (server adds %.3f s; %.2fx playback alone, %.3f s)  underruns %s  peak RSS %.1f MiB\n' \
    "$label:" "$pm" "$(echo "$pm - $base" | bc -l)" "$(echo "$pm / $base" | bc -l)" "$base" "$(underruns $r)" "$(echo "$(tail -1 "$work/$r.time") / 1024" | bc -l)"
done
printf 'remote: peak RSS with 50 clients %.1f MiB (target <= 64); playback alone %.1f MiB\n' \
  "$(echo "$(tail -1 "$work/fifty.time") / 1024" | bc -l)" "$(echo "$(tail -1 "$work/alone.time") / 1024" | bc -l)"
cat "$work/fifty.clients" 2>/dev/null | sed 's/^/remote: 50 clients received: /'

# render never starts the server: its start-up and memory with the server linked in.
for i in $(seq 7); do
  start=$EPOCHREALTIME
  /usr/bin/time -f "%M" -o "$work/r.time" "$bin" render --spm 180 --duration 10s -o "$work/r.wav" --quiet
  echo "$(echo "($EPOCHREALTIME - $start) * 1000" | bc -l) $(cat "$work/r.time")" >> "$work/render"
done
printf 'remote: render of 10 s, median of 7: %.1f ms, peak RSS %.1f MiB (compare with bench.sh; the server is linked, not started)\n' \
  "$(cut -d' ' -f1 "$work/render" | sort -n | sed -n 4p)" "$(echo "$(cut -d' ' -f2 "$work/render" | sort -n | sed -n 4p) / 1024" | bc -l)"

if [ "${BENCH_BUILD:-0}" = 1 ]; then
  added=$(git -C "$root" log --diff-filter=A --format=%H -- Sources/StrideCueRemote/CoachRemote.swift | tail -1)
  mkdir -p "$work/before" "$work/after"
  git -C "$root" archive "$added^" | tar -x -C "$work/before"
  git -C "$root" archive HEAD | tar -x -C "$work/after"
  for tree in before after; do
    start=$EPOCHREALTIME
    (cd "$work/$tree" && swift build -c release --product stridecue --static-swift-stdlib >/dev/null 2>&1)
    printf 'remote: clean release build, %s the remote: %.0f s\n' "$tree" "$(echo "$EPOCHREALTIME - $start" | bc -l)"
  done
  # render with and without the server linked in, alternating runs: start-up (10 s track),
  # speed (800 s track) and peak RSS.
  for i in $(seq 7); do
    for tree in before after; do
      for length in 10 800; do
        start=$EPOCHREALTIME
        /usr/bin/time -f "%M" -o "$work/r.time" "$work/$tree/.build/release/stridecue" render --spm 180 --duration "${length}s" \
          --rate 48000 --channels 1 -o "$work/r.wav" --quiet
        echo "$(echo "($EPOCHREALTIME - $start) * 1000" | bc -l) $(cat "$work/r.time")" >> "$work/render-$tree-$length"
        rm -f "$work/r.wav"
      done
    done
  done
  for length in 10 800; do
    b=$(cut -d' ' -f1 "$work/render-before-$length" | sort -n | sed -n 4p)
    a=$(cut -d' ' -f1 "$work/render-after-$length" | sort -n | sed -n 4p)
    bm=$(cut -d' ' -f2 "$work/render-before-$length" | sort -n | sed -n 4p)
    am=$(cut -d' ' -f2 "$work/render-after-$length" | sort -n | sed -n 4p)
    printf 'remote: render %s s, median of 7: %.1f ms with the server linked, %.1f ms before it (%.3fx); peak RSS %.1f vs %.1f MiB\n' \
      "$length" "$a" "$b" "$(echo "$a / $b" | bc -l)" "$(echo "$am / 1024" | bc -l)" "$(echo "$bm / 1024" | bc -l)"
  done
  printf 'remote: binary size %s bytes with the server, %s before\n' \
    "$(stat -c %s "$work/after/.build/release/stridecue")" "$(stat -c %s "$work/before/.build/release/stridecue")"
fi
