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

Then every shipped preset, as a runner hears it: `stridecue render PRESET --cue-sheet -`
at 16 kHz (its first 4 minutes), and each row of the cue sheet (cue, count-in word,
caution) cut out of that mix, clicks and ducking included, with 300 ms of quiet each side,
decoded against the closed set of everything the preset says plus the near misses. Every
one must be picked right. The cut is the cue's own span of the mix (the clicks under it
included), with quiet on each side, so that a neighbouring count-in word does not come along.

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
    """Lower-case words without punctuation (apostrophes kept), as the dictionary spells them."""
    cleaned = "".join(c if c.isalnum() or c == "'" else " " for c in text.lower())
    return cleaned.split()


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
    failures += check_presets(binary)
    return 1 if failures else 0


def check_presets(binary):
    """Each cue of each shipped preset, cut out of the preset's own mix."""
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    presets = sorted(f[:-5] for f in os.listdir(os.path.join(root, "Presets")) if f.endswith(".yaml"))
    failures = 0
    total = 0
    print(f"\n{'preset':<20} {'step':>5} {'cue':<36} {'open (recall)':<40} closed")
    with tempfile.TemporaryDirectory() as tmp:
        for preset in presets:
            mix_path = os.path.join(tmp, "mix.wav")
            sheet = subprocess.run([binary, "render", preset, "--rate", str(RATE), "--channels", "1",
                                    "--duration", "240", "--quiet", "--cue-sheet", "-", "-o", mix_path],
                                   check=True, capture_output=True, text=True).stdout
            mix = read(mix_path)
            os.remove(mix_path)
            rows = [line.split(",") for line in sheet.strip().split("\n")[1:]]
            # Fields: start, end, step, text (no commas in the shipped texts), style.
            rows = [(float(r[0]), float(r[1]), r[2], ",".join(r[3:-1]), r[-1]) for r in rows]
            spoken = [r for r in rows if r[4] in ("voice", "both")]
            open_decoder = Decoder(samprate=RATE, loglevel="FATAL", cmn="batch")
            # A phrase with a word the recogniser's dictionary lacks ("flexor") cannot be in
            # its grammar: such a cue is reported, not checked.
            known = lambda text: all(open_decoder.lookup_word(w) for w in words(text))
            phrases = sorted({" ".join(words(r[3])) for r in spoken if known(r[3])} | set(DISTRACTORS)
                             | {"three", "two", "one", "go", "four", "five"})
            closed = Decoder(samprate=RATE, loglevel="FATAL", cmn="batch")
            closed.add_jsgf_string("cues", "#JSGF V1.0;\ngrammar cues;\npublic <cue> = "
                                   + " | ".join(f"( {p} )" for p in phrases) + " ;\n")
            closed.activate_search("cues")
            seen = set()
            for start, end, step, text, style in spoken:
                # Each distinct cue once per preset: the same words in the same mix.
                key = (text, step if text in ("three", "two", "one", "go") else "")
                if key in seen:
                    continue
                seen.add(key)
                # Just the cue's own stretch of the mix (so no neighbouring count-in word
                # comes along), with quiet on each side as for the single cues above.
                cut = pad(mix[int(start * RATE):min(len(mix), int(end * RATE) + 1)])
                expected = words(text)
                if not known(text):
                    missing = [w for w in expected if not open_decoder.lookup_word(w)]
                    print(f"{preset:<20} {step:>5} {text[:34]:<36} skipped: not in the dictionary: {', '.join(missing)}")
                    continue
                heard = decode(open_decoder, cut)
                recall = sum(w in words(heard) for w in expected) / len(expected)
                chosen = decode(closed, cut)
                right = chosen == " ".join(expected)
                failures += not right
                total += 1
                label = text if len(text) <= 34 else text[:31] + "..."
                print(f"{preset:<20} {step:>5} {label:<36} {recall:4.0%} '{heard}'"[:104].ljust(104)
                      + f" {'ok' if right else 'WRONG: ' + repr(chosen)}")
    print(f"{failures} of {total} preset cues misheard in the mix")
    return failures


if __name__ == "__main__":
    sys.exit(main())
