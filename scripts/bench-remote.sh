#!/usr/bin/env bash
# make bench, the coach's remote: `stridecue play --remote` on the paced fake sound card
# (as bench-play.sh), driven over loopback by scripts/remote-clients.py. Prints:
#   API call -> new cadence handed to ALSA, median and max of BENCH_CALLS calls (seen in the status)
#   CPU per minute played: no remote (the peer: playback alone), remote with 1 page, with 50 clients
#   peak RSS with 50 clients                                          (target <= 64 MiB)
#   underruns in each run                                             (target 0)
#   render start-up and peak RSS of this stridecue (the server is in stridecue-remote, not here)
# BENCH_BUILD=1 also times a clean release build of this tree (stridecue, then stridecue-remote)
# and of the peer, the tree before the remote was merged (BENCH_PEER, a git revision; by default
# the first parent of the merge that added it: main as it was), and compares render in the two
# stridecue binaries, alternating runs (several minutes on two cores).
set -euo pipefail
bin=${1:-.build/release/stridecue}
seconds=${BENCH_PLAY_SECONDS:-60}
calls=${BENCH_CALLS:-100}
# $root, $work, the paced fake card and median; the players go in $bench_pids.
. "$(dirname "$0")/live-bench.sh"
live_bench_setup remote
clients="python3 $root/scripts/remote-clients.py"

# run NAME CLIENTS [remote]: plays a plain 180 spm track for $seconds; with "remote", serves the
# remote on a free port and starts CLIENTS WebSocket clients (0: none). Leaves NAME.err, NAME.time.
run() {
  local name=$1 n=$2 flag=${3:-}
  local args=(play --spm 180 --duration "${seconds}s" --device paced --no-keys)
  [ -n "$flag" ] && args+=(--remote 0)
  /usr/bin/time -f "%M" -o "$work/$name.time" env STRIDECUE_TIMING=1 \
    "$bin" "${args[@]}" </dev/null >"$work/$name.out" 2>"$work/$name.err" &
  local pid=$!
  bench_pids+=("$pid")
  if [ -n "$flag" ]; then
    for _ in $(seq 100); do grep -q '^Coach remote:' "$work/$name.out" && break; sleep 0.05; done
    local url; url=$(sed -n 's/^Coach remote: //p' "$work/$name.out")
    [ "$n" -gt 0 ] && $clients "$url" watch "$n" >"$work/$name.clients" &
    [ "$name" = latency ] && $clients "$url" cadence "$calls" 0.15 >"$work/latency.calls" &
  fi
  wait "$pid" || { cat "$work/$name.err" >&2; exit 1; }
  wait
}
cpu() { sed -n 's/.*; CPU \([0-9.]*\) s;.*/\1/p' "$work/$1.err" | tail -1; }
per_minute() { echo "$(cpu "$1") * 60 / $seconds" | bc -l; }
underruns() { sed -n 's/.*underruns \([0-9]*\)$/\1/p' "$work/$1.err" | tail -1; }

# The server under load while a plain track plays: RSS and CPU of the server idle, with 50 pages,
# with 1,000 idle connections (past the limits: refused), during a flood of bad requests and
# half-open connections, and after it (RSS as a ratio of idle); the track's underruns (target 0).
# Loopback only, bounded in count and time. BENCH_REMOTE_ONLY=load runs just this part.
load() {
  env STRIDECUE_TIMING=1 "$bin" play --spm 180 --duration 75s --device paced --no-keys --remote 0 \
    </dev/null >"$work/load.out" 2>"$work/load.err" &
  local pid=$!
  bench_pids+=("$pid")
  for _ in $(seq 100); do grep -q '^Coach remote:' "$work/load.out" && break; sleep 0.05; done
  local url; url=$(sed -n 's/^Coach remote: //p' "$work/load.out")
  $clients "$url" load "$pid" | sed 's/^load: /remote: load: /'
  wait "$pid" || { cat "$work/load.err" >&2; exit 1; }
  printf 'remote: load: underruns of the track played meanwhile: %s (target 0)\n' "$(underruns load)"
}
if [ "${BENCH_REMOTE_ONLY:-}" = load ]; then load; exit 0; fi

run alone 0
run idle 0 remote
run page 1 remote
run fifty 50 remote
seconds_saved=$seconds; seconds=$(( calls * 15 / 100 + 3 )); run latency 0 remote; seconds=$seconds_saved

sed -n 's/.*handed to ALSA \([0-9.]*\) ms.*/\1/p' "$work/latency.calls" | sort -n > "$work/lat"
n=$(wc -l < "$work/lat")
lat_median=$(median < "$work/lat" | xargs printf "%.2f")
lat_max=$(tail -1 "$work/lat")

printf 'remote: API call -> new cadence handed to ALSA: median %s ms, max %s ms (%d calls, default buffer)\n' "$lat_median" "$lat_max" "$n"
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
load

# render never starts the server, and stridecue does not even hold it: its start-up and memory.
for i in $(seq 7); do
  start=$EPOCHREALTIME
  /usr/bin/time -f "%M" -o "$work/r.time" "$bin" render --spm 180 --duration 10s -o "$work/r.wav" --quiet
  echo "$(echo "($EPOCHREALTIME - $start) * 1000" | bc -l) $(cat "$work/r.time")" >> "$work/render"
done
printf 'remote: render of 10 s, median of 7: %.1f ms, peak RSS %.1f MiB (compare with bench.sh; the server is not in stridecue)\n' \
  "$(cut -d' ' -f1 "$work/render" | sort -n | sed -n 4p)" "$(echo "$(cut -d' ' -f2 "$work/render" | sort -n | sed -n 4p) / 1024" | bc -l)"

if [ "${BENCH_BUILD:-0}" = 1 ]; then
  added=$(git -C "$root" log --first-parent --diff-filter=A --format=%H -- Sources/StrideCueRemote/CoachRemote.swift | tail -1)
  peer=${BENCH_PEER:-$added^}
  mkdir -p "$work/before" "$work/after"
  git -C "$root" archive "$peer" | tar -x -C "$work/before"
  git -C "$root" archive HEAD | tar -x -C "$work/after"
  build() {  # build TREE PRODUCT: prints the seconds a release build of PRODUCT took
    local start=$EPOCHREALTIME
    (cd "$work/$1" && swift build -c release --product "$2" --static-swift-stdlib >"$work/build-$1-$2.log" 2>&1) \
      || { tail -20 "$work/build-$1-$2.log" >&2; exit 1; }
    echo "$EPOCHREALTIME - $start" | bc -l
  }
  t_before=$(build before stridecue)
  t_after=$(build after stridecue)
  t_remote=$(build after stridecue-remote)
  printf 'remote: clean release build: peer (%s) stridecue %.0f s; this tree stridecue %.0f s, then stridecue-remote %.0f s more (%.0f s in all, +%.0f s)\n' \
    "$(git -C "$root" rev-parse --short "$peer")" "$t_before" "$t_after" "$t_remote" "$(echo "$t_after + $t_remote" | bc -l)" \
    "$(echo "$t_after + $t_remote - $t_before" | bc -l)"
  # render in this stridecue, in the peer's, and in stridecue-remote (the same commands with the
  # server linked in, though never started by render: what one binary holding both would cost, with
  # Hummingbird built on FoundationEssentials), alternating runs: start-up (10 s track), speed
  # (800 s track) and peak RSS.
  binary() { case $1 in before) echo "$work/before/.build/release/stridecue" ;;
                        after) echo "$work/after/.build/release/stridecue" ;;
                        remote) echo "$work/after/.build/release/stridecue-remote" ;; esac; }
  for i in $(seq 7); do
    for tree in before after remote; do
      for length in 10 800; do
        start=$EPOCHREALTIME
        /usr/bin/time -f "%M" -o "$work/r.time" "$(binary $tree)" render --spm 180 --duration "${length}s" \
          --rate 48000 --channels 1 -o "$work/r.wav" --quiet
        echo "$(echo "($EPOCHREALTIME - $start) * 1000" | bc -l) $(cat "$work/r.time")" >> "$work/render-$tree-$length"
        rm -f "$work/r.wav"
      done
    done
  done
  median() { cut -d' ' -f"$2" "$1" | sort -n | sed -n 4p; }
  for length in 10 800; do
    b=$(median "$work/render-before-$length" 1); bm=$(median "$work/render-before-$length" 2)
    a=$(median "$work/render-after-$length" 1); am=$(median "$work/render-after-$length" 2)
    r=$(median "$work/render-remote-$length" 1); rm_=$(median "$work/render-remote-$length" 2)
    printf 'remote: render %s s, median of 7: this stridecue %.1f ms, %.1f MiB; the peer %.1f ms, %.1f MiB (%.3fx); stridecue-remote %.1f ms, %.1f MiB (%.3fx)\n' \
      "$length" "$a" "$(echo "$am / 1024" | bc -l)" "$b" "$(echo "$bm / 1024" | bc -l)" "$(echo "$a / $b" | bc -l)" \
      "$r" "$(echo "$rm_ / 1024" | bc -l)" "$(echo "$r / $b" | bc -l)"
  done
  printf 'remote: binary size: stridecue %s bytes, the peer %s; stridecue-remote %s\n' \
    "$(stat -c %s "$work/after/.build/release/stridecue")" "$(stat -c %s "$work/before/.build/release/stridecue")" \
    "$(stat -c %s "$work/after/.build/release/stridecue-remote")"
fi
