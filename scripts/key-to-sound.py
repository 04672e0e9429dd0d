#!/usr/bin/env python3
"""make bench, key to sound: `stridecue play` in a pseudo-terminal, tempo keys typed into it.

Usage: key-to-sound.py STRIDECUE KEYS [DEVICE]
Types KEYS tempo keys ('+' and '-' in turn) at random moments (seeded, so runs repeat), about
1.1 to 2.1 s apart, each time noting CLOCK_REALTIME just before the key is written. With
STRIDECUE_TIMING=1, play reports when the first frame of the first step at each new tempo was
handed to ALSA. Prints one line per key: milliseconds from the key to that frame.
"""
import os, pty, random, re, select, sys, time

binary, keys = sys.argv[1], int(sys.argv[2])
device = sys.argv[3] if len(sys.argv) > 3 else "paced"
env = dict(os.environ, STRIDECUE_TIMING="1")
pid, fd = pty.fork()
if pid == 0:
    os.execve(binary, [binary, "play", "--spm", "180", "--device", device], env)

output = bytearray()
def read_for(seconds):
    deadline = time.monotonic() + seconds
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                return
            if not chunk:
                return
            output.extend(chunk)

random.seed(11)
read_for(2.0)
pressed = []
for k in range(keys):
    read_for(random.uniform(1.1, 2.1))
    pressed.append(time.time())
    os.write(fd, b"+" if k % 2 == 0 else b"-")
read_for(1.5)
os.write(fd, b"q")
read_for(3.0)
_, status = os.waitpid(pid, 0)
handed = [float(x) for x in re.findall(rb"first step at the new tempo handed to ALSA at epoch ([0-9.]+) s", bytes(output))]
if os.waitstatus_to_exitcode(status) != 0 or len(handed) != len(pressed):
    sys.exit(f"key-to-sound: play exited {os.waitstatus_to_exitcode(status)}, {len(handed)} new tempos for {len(pressed)} keys")
for key, sound in zip(pressed, handed):
    print(f"{(sound - key) * 1000:.1f}")
