#!/usr/bin/env python3
"""make bench, Link: when two paced fake cards played their clicks (scripts/bench-link.sh).

Usage: link-clicks.py RAW_A TIMES_A RAW_B TIMES_B PEER_OUTPUT [SETTLE]
Each RAW is what a card played (S16_LE stereo, 48 kHz), its TIMES when (Tests/FakeDevice:
lines "ORIGIN NS"). PEER_OUTPUT is the C++ peer's own lines ("tempo T NS" for each change).
Prints: the offset of each click of B from the nearest of A in ms, median and max, over the
clicks both played from SETTLE seconds (default 0.5) after the later one started; then, for each tempo change, the time from the change to the first click
of A off the old grid (the first step that moved), in ms, median and max.
"""
import array, statistics, sys

RATE = 48000

def clicks(raw, times):
    samples = array.array("h")
    with open(raw, "rb") as f:
        samples.frombytes(f.read())
    left = samples[0::2]
    starts = []
    for line in open(times):
        origin, ns = line.split()
        starts.append((int(origin), int(ns)))
    out, silent = [], 200
    for i, s in enumerate(left):
        if s == 0:
            silent += 1
            continue
        if silent >= 200:
            frame = i - 1
            origin, ns = starts[0]
            for o, n in starts:
                if o <= frame:
                    origin, ns = o, n
            out.append((ns + (frame - origin) * 1e9 / RATE) / 1e9)
        silent = 0
    return out

a = clicks(sys.argv[1], sys.argv[2])
b = clicks(sys.argv[3], sys.argv[4])
changes = [(float(p[1]), int(p[2]) / 1e9) for p in (l.split() for l in open(sys.argv[5])) if p and p[0] == "tempo"]
settle = float(sys.argv[6]) if len(sys.argv) > 6 else 0.5
lo, hi = max(a[0], b[0]) + settle, min(a[-1], b[-1]) - 0.05
offsets = [min(abs(x - y) for x in a) * 1000 for y in b if lo <= y <= hi]
print(f"offset {statistics.median(offsets):.3f} {max(offsets):.3f} {len(offsets)}")
delays = []
old = 180.0
for tempo, at in changes:
    # The first click off the old grid after the change: the first step that moved.
    for prev, click in zip(a, a[1:]):
        if click > at and abs((click - prev) - 60 / old) > 0.0002:
            delays.append((click - at) * 1000)
            break
    old = tempo
if delays:
    print(f"change {statistics.median(delays):.1f} {max(delays):.1f} {len(delays)}")
