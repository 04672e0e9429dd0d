#!/usr/bin/env bash
# Starts or stops a real sound server, PulseAudio or PipeWire, with a sink called `run` that plays
# into nothing on the system clock (PulseAudio's pipe sink, PipeWire's null sink), in a
# private folder, so that ALSA's `default` goes through the server's ALSA plugin as on a desktop
# while nothing touches the machine's own audio. For the tests and `make bench`.
#
#   scripts/sound-server.sh start pulse|pipewire DIR   → prints the environment to use, one
#                                                         VAR=value a line (HOME, XDG_RUNTIME_DIR,
#                                                         DBUS_SESSION_BUS_ADDRESS, ALSA_CONFIG_PATH…)
#   scripts/sound-server.sh stop DIR                    → ends every process it started there
#   scripts/sound-server.sh record DIR FILE             → records the sink (s16le, 48 kHz, stereo,
#                                                         raw) to FILE until stopped; prints its PID
#
# DIR is made if missing and holds the server's runtime folder, its home (with the .asoundrc that
# sends `default` to the server) and the PIDs. PipeWire's ALSA plugin conflicts with pulseaudio in
# Debian 12, so it is taken from its package file without installing it: `make test-deps` unpacks it
# into .build/pipewire-alsa (PIPEWIRE_ALSA_PLUGIN names the .so elsewhere).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

die() { echo "sound-server.sh: $*" >&2; exit 1; }

# Waits up to 10 s for a command to succeed.
wait_for() {
  local i
  for i in $(seq 100); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  return 1
}

environment() {
  local dir=$1
  echo "HOME=$dir/home"
  echo "XDG_RUNTIME_DIR=$dir/run"
  [ -f "$dir/dbus-address" ] && echo "DBUS_SESSION_BUS_ADDRESS=$(cat "$dir/dbus-address")"
  [ -f "$dir/pulse-server" ] && echo "PULSE_SERVER=$(cat "$dir/pulse-server")"
  return 0
}

# Runs a command with the server's environment. A simple command, so that `in_env … &` leaves in
# $! the command's own PID (env and chrt exec it), which `stop` ends.
in_env() {
  local dir=$1 vars=() line; shift
  while IFS= read -r line; do vars+=("$line"); done < <(environment "$dir")
  exec env "${vars[@]}" "$@"
}
# The same in the foreground, in a subshell (in_env replaces the shell it runs in).
run_env() { (in_env "$@"); }

start_pulse() {
  local dir=$1
  command -v pulseaudio >/dev/null || die "pulseaudio is not installed (make test-deps installs it)"
  echo "unix:$dir/run/pulse/native" > "$dir/pulse-server"
  cat > "$dir/home/.asoundrc" <<EOF
pcm.!default { type pulse }
ctl.!default { type pulse }
EOF
  in_env "$dir" pulseaudio -n --daemonize=no --exit-idle-time=-1 --use-pid-file=no --disable-shm=yes \
    --load="module-pipe-sink sink_name=run file=$dir/run.fifo format=s16le rate=48000 channels=2 use_system_clock_for_timing=yes" \
    --load="module-native-protocol-unix auth-anonymous=1 socket=$dir/run/pulse/native" \
    --load="module-always-sink" >"$dir/server.log" 2>&1 &
  echo $! >> "$dir/pids"
  wait_for run_env "$dir" pactl info || { cat "$dir/server.log" >&2; die "PulseAudio did not answer within 10 s"; }
  run_env "$dir" pactl set-default-sink run >/dev/null
}

pipewire_plugin() {
  local so=${PIPEWIRE_ALSA_PLUGIN:-$root/.build/pipewire-alsa/usr/lib/$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)/alsa-lib/libasound_module_pcm_pipewire.so}
  [ -r "$so" ] || die "PipeWire's ALSA plugin is not at $so (make test-deps unpacks it)"
  echo "$so"
}

has_node() { run_env "$1" pw-cli ls Node | grep -q 'node.name = "run"'; }
is_default_sink() { run_env "$1" wpctl status | grep -q '\*.*run'; }

start_pipewire() {
  local dir=$1 plugin
  command -v pipewire >/dev/null || die "pipewire is not installed (make test-deps installs it)"
  command -v wireplumber >/dev/null || die "wireplumber is not installed (make test-deps installs it)"
  plugin=$(pipewire_plugin)
  dbus-daemon --session --fork --print-address=1 --print-pid=3 3>"$dir/dbus-pid" > "$dir/dbus-address"
  cat "$dir/dbus-pid" >> "$dir/pids"
  # The shipped configuration with a null sink as the first object (a hand-picked module list
  # lacks factories the plugin needs), and the smallest graph cycle PipeWire itself applies in a
  # virtual machine (its vm.overrides: 1024 frames), which this is, though PipeWire does not always
  # detect it: at 256-frame cycles pw-record lost 128-256 frames at a time on a loaded 2-core VM.
  mkdir -p "$dir/home/.config/pipewire"
  # The sink is the pipe tunnel: the server itself writes what it plays into a FIFO (and drops
  # it while nobody reads), on the cycles of PipeWire's own dummy driver (the system clock).
  awk -v fifo="$dir/run.fifo" '
    /^ *default.clock.min-quantum/ && !quantum { print "    default.clock.min-quantum = 1024"; quantum = 1; next }
    /^context.modules = \[/ { modules = 1 }
    /^\]/ && modules {
      # Last: it connects to the server as a client, over the protocol loaded before it.
      print "    { name = libpipewire-module-pipe-tunnel args = { tunnel.mode = sink pipe.filename = \"" fifo "\""
      print "      audio.format = S16LE audio.rate = 48000 audio.channels = 2 audio.position = [ FL FR ]"
      print "      stream.props = { node.name = run node.description = run priority.session = 3000 } } }"
      modules = 0
    }
    { print }' /usr/share/pipewire/pipewire.conf > "$dir/home/.config/pipewire/pipewire.conf"
  cat > "$dir/home/.asoundrc" <<EOF
pcm_type.pipewire { lib "$plugin" }
ctl_type.pipewire { lib "$(dirname "$plugin")/libasound_module_ctl_pipewire.so" }
pcm.!default { type pipewire }
ctl.!default { type pipewire }
EOF
  in_env "$dir" pipewire -c "$dir/home/.config/pipewire/pipewire.conf" >"$dir/server.log" 2>&1 &
  echo $! >> "$dir/pids"
  wait_for run_env "$dir" pw-cli info 0 || { cat "$dir/server.log" >&2; die "PipeWire did not answer within 10 s"; }
  in_env "$dir" wireplumber >"$dir/wireplumber.log" 2>&1 &
  echo $! >> "$dir/pids"
  wait_for has_node "$dir" \
    || { cat "$dir/server.log" "$dir/wireplumber.log" >&2; die "PipeWire's sink 'run' did not appear within 10 s"; }
  # WirePlumber links new streams to the default sink once it has chosen one.
  wait_for is_default_sink "$dir" || true
}

record() {
  local dir=$1 file=$2 rt=()
  # Above ordinary processes (a test's busy loops), below the player's SCHED_FIFO 20: a recorder
  # that falls behind loses frames, which would read as the player's fault.
  chrt -f 10 true 2>/dev/null && rt=(chrt -f 10)
  if [ -f "$dir/pulse-server" ]; then
    # The sink is module-pipe-sink on the system clock: the server itself writes what it plays
    # into a FIFO (and drops it while nobody reads), so no client of the server can fall behind.
    "${rt[@]}" cat "$dir/run.fifo" > "$file" 2>>"$dir/record.log" &
  else
    "${rt[@]}" cat "$dir/run.fifo" > "$file" 2>>"$dir/record.log" &
  fi
  echo $! >> "$dir/pids"
  echo $!
}

stop() {
  local dir=$1 pid
  [ -f "$dir/pids" ] || return 0
  # Latest first: recorders and clients before the servers they talk to.
  for pid in $(tac "$dir/pids"); do kill "$pid" 2>/dev/null || true; done
  for pid in $(cat "$dir/pids"); do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    kill -9 "$pid" 2>/dev/null || true
  done
  rm -f "$dir/pids"
}

case "${1:-}" in
  start)
    kind=${2:-}; dir=${3:-}
    [ -n "$dir" ] || die "usage: start pulse|pipewire DIR"
    mkdir -p "$dir/home" "$dir/run"; chmod 700 "$dir/run"
    dir=$(cd "$dir" && pwd)
    case "$kind" in
      pulse) start_pulse "$dir" ;;
      pipewire) start_pipewire "$dir" ;;
      *) die "unknown server '$kind' (pulse or pipewire)" ;;
    esac
    environment "$dir" ;;
  stop) [ -n "${2:-}" ] || die "usage: stop DIR"; stop "$(cd "$2" && pwd)" ;;
  record) [ -n "${3:-}" ] || die "usage: record DIR FILE"; record "$(cd "$2" && pwd)" "$3" ;;
  env) environment "$(cd "$2" && pwd)" ;;
  *) die "usage: start pulse|pipewire DIR | stop DIR | record DIR FILE" ;;
esac
