#!/usr/bin/env bash
# Part of `make test`: runs a command (the tests), then fails if any process it started is still
# running: a stridecue or stridecue-remote, a sound server, a D-Bus daemon, Chromium or
# chromedriver, a busy loop. A test that leaves one behind has not cleaned up after itself, and
# the next run (or the runner's own sound) pays for it.
#
#   scripts/no-leftovers.sh COMMAND [ARGUMENT…]   → COMMAND's exit status, or 1 if it left any
#
# What the run started is told by a marker in the environment, which every process it starts
# inherits (the tests' programs, the servers scripts/sound-server.sh starts, Chromium under
# Selenium). Processes that were running before, and those other users start meanwhile (a shared
# machine), do not hold it, so they are never counted. As a second net, a process of one of the
# names below whose environment cannot be read is counted when it was not running before.
set -uo pipefail
[ $# -gt 0 ] || { echo "usage: no-leftovers.sh COMMAND [ARGUMENT…]" >&2; exit 64; }

names='^(stridecue|stridecue-remo|pulseaudio|pipewire|pipewire-pulse|wireplumber|dbus-daemon|chromium|chromedriver)$'
marker="STRIDECUE_TEST_RUN=$$-$(date +%s%N)"

# PIDs of the listed names running now (comm is cut at 15 characters), one a line.
listed_pids() { ps -e -o pid=,comm= | awk -v re="$names" '$2 ~ re { print $1 }' | sort -u; }

before=$(listed_pids)
env "$marker" "$@"
status=$?

# The run's processes still here. A zombie's environment reads as empty: it is gone already.
leftovers() {
  local pid
  grep -lzxF "$marker" /proc/[0-9]*/environ 2>/dev/null | cut -d/ -f3
  for pid in $(comm -13 <(echo "$before") <(listed_pids)); do
    [ -r "/proc/$pid/environ" ] && head -c1 "/proc/$pid/environ" >/dev/null 2>&1 || echo "$pid"
  done
}
# What the run is ending as it returns gets five seconds to exit; none seen twice running, a
# quarter of a second apart, is none (a child just forked may not show at the first look).
found="" clear=0 deadline=$((SECONDS + 5))
while [ $SECONDS -lt $deadline ]; do
  found=$(leftovers | sort -un)
  if [ -z "$found" ]; then clear=$((clear + 1)); [ $clear = 2 ] && break; else clear=0; fi
  sleep 0.25
done
if [ -n "$found" ]; then
  echo "no-leftovers.sh: the tests left these processes running:" >&2
  for pid in $found; do ps -o pid=,comm=,args= -p "$pid" 2>/dev/null | cut -c1-200 >&2; done
  [ "$status" -eq 0 ] && status=1
fi
exit "$status"
