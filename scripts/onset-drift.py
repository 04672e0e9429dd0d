#!/usr/bin/env python3
"""Where each click of a mono 16-bit WAV starts, against the exact grid of a cadence.

Usage: onset-drift.py FILE.wav SPM
Prints the largest distance, in samples, between a click's onset and its exact time
k * 60/SPM * rate (onsets measured the same way for every click, so a constant offset of the
sound's own attack cancels out: the first click is the reference).
"""
import sys
import wave

import numpy as np

path, spm = sys.argv[1], float(sys.argv[2])
with wave.open(path) as w:
    rate = w.getframerate()
    x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.int32)
loud = np.abs(x) > 300
# An onset: a loud sample after at least 2 ms of quiet.
quiet_run = int(rate * 0.002)
idx = np.flatnonzero(loud)
starts = idx[np.concatenate(([True], np.diff(idx) > quiet_run))]
# Sub-sample onset: interpolate where |x| crosses the threshold.
onsets = []
for s in starts:
    a, b = abs(x[s - 1]) if s > 0 else 0, abs(x[s])
    onsets.append(s - 1 + (300 - a) / (b - a) if b != a else float(s))
onsets = np.array(onsets)
period = 60.0 / spm * rate
k = np.round((onsets - onsets[0]) / period)
drift = onsets - onsets[0] - k * period
print(f"{path}: {len(onsets)} clicks, onset vs exact grid: max |drift| {np.max(np.abs(drift)):.2f} samples")
