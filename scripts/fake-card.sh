# Sourced by the live benchmarks: builds the project's paced fake sound card
# (Tests/FakeDevice/stridecue_fake.c, an ALSA ioplug that consumes frames on the real clock) into
# folder $1 and points alsa-lib at it, so `--device paced` plays on machines without sound hardware.
use_fake_card() {
  local work=$1 root
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  gcc -O2 -DPIC -shared -fPIC -I"$root/Tests/FakeDevice/include" \
    -o "$work/libasound_module_pcm_stridecue_fake.so" "$root/Tests/FakeDevice/stridecue_fake.c" -lasound
  local stock=/usr/share/alsa/alsa.conf
  [ -r "$stock" ] || { echo "$(basename "$0"): $stock not found (alsa-lib's configuration)" >&2; return 1; }
  export ALSA_CONFIG_PATH="$stock:$root/Tests/ALSA/test.conf"
  export STRIDECUE_FAKE_LIB="$work/libasound_module_pcm_stridecue_fake.so"
}
