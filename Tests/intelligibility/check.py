#!/usr/bin/env python3
"""Does a speech recogniser understand StrideCue's spoken cues?

A recogniser is a fair, repeatable proxy for a listener. This one is PocketSphinx 5 with
the US English acoustic model, dictionary and language model shipped inside its PyPI
wheel (nothing is downloaded at run time). Each cue is rendered with `stridecue say` at
16 kHz (the model's rate), padded with 300 ms of quiet on each side, and decoded twice:

  open   - free decoding with the general English language model: the words it hears,
           scored as the share of the cue's words found in the hypothesis (recall);
  closed - the recogniser picks one phrase from a set of cues and near misses
           ("push through", "pop backwards", ...): did it pick the right one?

Conditions: the cue at its natural rate; fitted into 2 steps at 180 spm (as a preset
plays it); and fitted, with the click track of `stridecue render --spm 180` under it at
the voice's peak level and at -6 dB below it (clicks land on the steps, the cue starts on
one). Phase 2 of the spoken-cue work sets the real balance; these levels bracket it.

The quiet is a noise floor at about -70 dBFS (seeded), not digital zeros, and cepstral
mean normalisation runs per utterance ("batch"), so one cue's result does not depend on
the cue decoded before it. Both matter: with zero padding and the decoder's default live
normalisation, PocketSphinx hears the trimmed "pull through" (which starts right on the
burst of its "p") as "full through", yet hears it right with any noise floor under it,
as a real playback chain and the click track always provide.

Every voice is tried; the default voice (slt) must pass the closed test in every
condition, the others are reported.

Usage: python3 check.py [path/to/stridecue]    (exit 1 if a required check fails)
Needs: pip install pocketsphinx==5.1.1          (run.sh does this in a private venv)
"""
import array
import os
import random
import subprocess
import sys
import tempfile
import wave

from pocketsphinx import Decoder

RATE = 16000
CAUTION = "Not with a hamstring injury. Begin slowly and build up gently."
# (text, fit into 2 steps at 180 spm?) — the bum-kicks cues and the caution before set 1.
CUES = [("pull through", True), ("pop forwards", True), (CAUTION, False)]
VOICES = ["slt", "kal16", "awb", "rms"]  # the default first
# Near misses a listener could confuse with the cues.
DISTRACTORS = ["push through", "pull forward", "pop backwards", "drop forwards", "pull through slowly",
               "pop through", "full through", "not with a hamstring", "begin slowly"]


def stridecue(binary, *args):
    subprocess.run([binary, *args], check=True, stdout=subprocess.DEVNULL)


def read(path):
    with wave.open(path) as w:
        assert w.getframerate() == RATE and w.getnchannels() == 1 and w.getsampwidth() == 2, path
        return array.array("h", w.readframes(w.getnframes()))


def pad(samples, seconds=0.3, floor=10):
    """Quiet before and after, and a noise floor (floor LSB RMS, about -70 dBFS) throughout."""
    rng = random.Random(1)
    quiet = [0] * int(RATE * seconds)
    return array.array("h", (max(-32768, min(32767, x + int(rng.gauss(0, floor))))
                             for x in quiet + list(samples) + quiet))


def with_clicks(speech, clicks, gain):
    """Speech starting on a step (the first click) with clicks under it scaled by gain."""
    out = array.array("h", clicks[: len(speech) + RATE])
    for i in range(len(out)):
        s = speech[i] if i < len(speech) else 0
        out[i] = max(-32768, min(32767, s + int(out[i] * gain)))
    return out


def decode(decoder, samples):
    decoder.start_utt()
    decoder.process_raw(samples.tobytes(), False, True)
    decoder.end_utt()
    hyp = decoder.hyp()
    return hyp.hypstr if hyp else ""


def words(text):
    return [w.strip(".,!?").lower() for w in text.split()]


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else "stridecue"
    open_decoder = Decoder(samprate=RATE, loglevel="FATAL", cmn="batch")
    closed_decoder = Decoder(samprate=RATE, loglevel="FATAL", cmn="batch")
    phrases = sorted({" ".join(words(t)) for t, _ in CUES} | set(DISTRACTORS))
    closed_decoder.add_jsgf_string("cues", "#JSGF V1.0;\ngrammar cues;\npublic <cue> = "
                                   + " | ".join(f"( {p} )" for p in phrases) + " ;\n")
    closed_decoder.activate_search("cues")

    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        clicks_path = os.path.join(tmp, "clicks.wav")
        stridecue(binary, "render", "--spm", "180", "--duration", "8s", "--rate", str(RATE),
                  "--channels", "1", "--quiet", "-o", clicks_path)
        raw_clicks = read(clicks_path)
        # Scale the clicks to the voice's peak (−1 dBFS) so gains are relative to it.
        click_peak = max(abs(x) for x in raw_clicks) or 1
        clicks = array.array("h", (int(x * 0.891 * 32767 / click_peak) for x in raw_clicks))

        print(f"{'voice':<6} {'cue':<36} {'condition':<20} {'open (recall)':<44} closed")
        for voice, text, fit in [(v, t, f) for v in VOICES for t, f in CUES]:
            natural = os.path.join(tmp, "natural.wav")
            stridecue(binary, "say", text, "--voice", voice, "--rate", str(RATE), "-o", natural)
            conditions = [("natural rate", read(natural))]
            if fit:
                fitted = os.path.join(tmp, "fitted.wav")
                stridecue(binary, "say", text, "--voice", voice, "--spm", "180", "--steps", "2",
                          "--rate", str(RATE), "-o", fitted)
                speech = read(fitted)
                conditions += [("2 steps @ 180 spm", speech),
                               ("+ clicks at -6 dB", with_clicks(speech, clicks, 0.5)),
                               ("+ clicks at 0 dB", with_clicks(speech, clicks, 1.0))]
            for name, samples in conditions:
                heard = decode(open_decoder, pad(samples))
                expected = words(text)
                recall = sum(w in words(heard) for w in expected) / len(expected)
                chosen = decode(closed_decoder, pad(samples))
                right = chosen == " ".join(expected)
                # Required: the default voice's cues are picked out of the closed set every time.
                failures += voice == VOICES[0] and not right
                label = (text if len(text) <= 34 else text[:31] + "...")
                print(f"{voice:<6} {label:<36} {name:<20} {recall:4.0%} '{heard}'"[:112].ljust(112)
                      + f" {'ok' if right else 'WRONG: ' + repr(chosen)}")
    print(f"{failures} closed-set failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
