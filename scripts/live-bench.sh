# Sourced by the live benchmarks (bench-play.sh, bench-play-music.sh, bench-remote.sh): what
# they all set up and measure the same way.

# live_bench_setup NAME: $root, a work folder $work removed on exit together with every process
# in $bench_pids, STRIDECUE_DATA, and the paced fake card with the private ALSA configuration
# that defines `paced` (scripts/fake-card.sh).
live_bench_setup() {
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  work=$(mktemp -d "${TMPDIR:-/tmp}/stridecue-bench-$1.XXXXXX")
  bench_pids=()
  trap live_bench_cleanup EXIT
  export STRIDECUE_DATA=${STRIDECUE_DATA:-$root}
  . "$root/scripts/fake-card.sh"
  use_fake_card "$work"
}

live_bench_cleanup() {
  for pid in "${bench_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}

# The median of the numbers on standard input, to 4 decimals.
median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.4f", m}'; }

# cpu_of OUT command...: runs the command (standard error to $work/cpu.err) and appends its CPU
# seconds, user + system as its parent counts them (bash's `times`, to the millisecond), to OUT.
# Returns the command's status, so that the caller says what a failure means.
cpu_of() {
  local out=$1 status=0; shift
  ( "$@" </dev/null >/dev/null 2>"$work/cpu.err"; status=$?; times > "$work/times"; exit $status ) || status=$?
  tail -1 "$work/times" | awk '{ split($1,a,"m"); split($2,b,"m"); sub("s","",a[2]); sub("s","",b[2]);
    printf "%.4f\n", a[1]*60+a[2]+b[1]*60+b[2] }' >> "$out"
  return $status
}
