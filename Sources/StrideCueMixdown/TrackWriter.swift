import Glibc
import StrideCueCore
import StrideCueFiles
import StrideCueLoudness
import StrideCueSoundFile
import Synchronization

/// What writing a track did, for the line `export` prints.
public struct TrackReport {
    /// Integrated loudness of the written mix in LUFS, or nil when it was not normalized.
    public var loudness: Double?
    /// The loudness gain applied, in dB.
    public var gain: Double
    /// The limiter's deepest cut in dB (0 when it never acted).
    public var limiting: Double
    /// The normalization target could not be reached within `maximumLimiting` of the limiter.
    public var targetMissed: Bool
    /// Seconds the renderer itself took in the written pass (`STRIDECUE_TIMING`'s "mixing").
    public var renderSeconds = 0.0
    /// Wall-clock seconds of each phase, in the order they ran (`STRIDECUE_TIMING`'s "phases").
    public var phases: [(phase: ProgressPlan.Phase, seconds: Double)] = []
}

/// Frames rendered, mixed and handed to the encoder at a time.
public let trackBlockFrames = 131_072

/// How far past the limiter-free gain the search may go, in dB. The default woodblock at
/// 180 spm needs about 7 dB more gain (and 13 dB off its peaks) to reach −16 LUFS; a target
/// that would need more than this is left short, and the export says so.
public let maximumLimiting = 14.0

/// Writes a track for a phone: the clicks and cues, music under them, normalized to a loudness
/// target with the true peak under a ceiling, tagged, in the format the name asks for.
///
/// Rendering is fast, so the track is rendered more than once (two-pass loudness, with a
/// short search in between when the limiter has to act). Loudness is measured by libebur128
/// on a sample of the track — at most 24 blocks of 2.7 s spread evenly over it, or the whole
/// of a shorter track — which is kept in memory (at most 12 MiB a channel), so the search
/// renders nothing. Music is decoded and converted once, before the first pass (`MusicLoop`),
/// and every pass reads it from there:
/// 1. Analysis at unity gain: the clicks and cues, and the music on its own; with music, the
///    mix with the music at its level (whose sample is the one kept). A sample of a click track stands for all of it (the
///    same clicks over and over); with music or cues, which come and go, the whole track is
///    measured too, and the sample aims off by the difference.
/// 2. The gain that brings the mix to the target. If that pushes a true peak over the
///    ceiling, the limiter takes some loudness back: a few runs over the sample, limited and
///    metered, find by the secant method the gain at which the limited mix lands on the
///    target (within 0.05 LU).
/// 3. The written pass: encoded on a second thread while this one renders and limits. With
///    music or cues it is metered as well; should it miss the target by more than 0.3 LU, the
///    search runs again aiming off by the miss, and the file is written again.
/// One gain for the whole mix: the balance of clicks, voice and music stays as rendered.
///
/// - Parameters:
///   - makeRenderer: a fresh renderer at the start of the track, once per pass.
///   - path: the file to write, atomically (nothing appears there on failure).
///   - settings: from `PhoneOptions.settings(for:…)`.
///   - tags: written when `settings.tagged`.
///   - cues: frames where spoken cues sound; the music ducks under them.
///   - progress: told how far the whole job is, as frames of the track's total, from the
///     music's decoding through every pass to the written one (which may run twice); called
///     on this thread.
///   - cancellation: checked between blocks; when set, the work stops, nothing is written,
///     and its `interruption` is thrown.
///   - stem: write one layer of the mix instead of the mix (`.mix` writes the mix). Every
///     pass but the written one is of the mix, and the written pass renders the mix beside the
///     stem: the stem gets the mix's gain and, frame for frame, the limiter's gain computed
///     from the mix, so the stems of a file add up to its mix.
///   - makeStemRenderer: a fresh renderer of that layer, for the written pass.
public func writeTrack(makeRenderer: @escaping () throws -> Renderer, to path: String, settings: PhoneSettings, tags: TrackTags?,
                cues: [Range<Int64>] = [], progress: @escaping (_ done: Int64, _ total: Int64) -> Void = { _, _ in },
                cancellation: Cancellation = Cancellation(),
                stem: RenderStem = .mix, makeStemRenderer: (() throws -> Renderer)? = nil,
                beforeRename: ((_ stamp: String) throws(FileError) -> Void)? = nil) throws -> TrackReport {
    let first = try makeRenderer()
    let tags = settings.tagged ? tags : nil
    let passes = TrackPasses(makeRenderer: makeRenderer, first: first, settings: settings, cues: cues, path: path,
                             cancellation: cancellation)
    if stem != .mix {
        guard let makeStemRenderer else { preconditionFailure("a stem needs its renderer") }
        passes.stem = (stem, makeStemRenderer)
    }
    let total = first.totalFrames
    let plan = ProgressPlan(total: total, report: progress)
    passes.progress = plan
    passes.beforeRename = beforeRename

    guard settings.loudness != nil || settings.music != nil else {
        plan.phases([.write: 1])
        let written = try passes.write(gain: 0, limited: false, metered: false, tags: tags)
        return TrackReport(loudness: nil, gain: 0, limiting: 0, targetMissed: false, renderSeconds: written.renderSeconds,
                           phases: plan.timings())
    }
    // Shares of the bar, roughly by cost: a lossy encoder makes the written pass the slow one.
    let lossy = settings.type != .wav && settings.type != .flac
    var shares: [ProgressPlan.Phase: Double] = [.analysis: 1, .write: lossy ? 4 : 1.5]
    if settings.music != nil {
        shares[.music] = 1
        shares[.analysis] = 0.3
        if settings.loudness != nil { shares[.measure] = 1 }
    }
    plan.phases(shares)

    // The music is decoded and converted once; every pass reads it from there.
    try passes.loadMusic()

    // Loudness is measured on the sample: the clicks and cues, the music on its own, then the
    // mix with the music at its level.
    plan.begin(.analysis)
    var (mixLoudness, musicLoudness, wholeLoudness) = try passes.analyze()
    if settings.music != nil {
        passes.setMusicGain(mixLoudness: mixLoudness, musicLoudness: musicLoudness)
        if settings.loudness != nil {
            // The mix at unity gain, music at its level: measured whole, and its sample kept
            // for the search, which then renders nothing.
            plan.begin(.measure)
            (mixLoudness, wholeLoudness) = try passes.measureMixAndKeepSample()
        }
    }
    plan.begin(.search)
    guard let target = settings.loudness, mixLoudness.isFinite else {
        // No target (music with --no-normalize), or nothing to normalize: the limiter only
        // keeps the mix's peaks under the ceiling.
        let written = try passes.write(gain: 0, limited: true, metered: false, tags: tags)
        return TrackReport(loudness: nil, gain: 0, limiting: written.limiting, targetMissed: false,
                           renderSeconds: written.renderSeconds, phases: plan.timings())
    }

    // How much louder the whole is than the sample (at unity gain): the sample aims that much lower.
    let offset = wholeLoudness.map { $0.isFinite ? $0 - mixLoudness : 0 } ?? 0
    let unlimited = target - mixLoudness - offset
    var search = GainSearch(target: target - offset)
    while search.needsMore {
        let next = search.points.isEmpty ? unlimited : search.nextGain()
        if search.tried(next) { break }
        let run = try passes.searchRun(gain: next)
        search.record(gain: next, loudness: run.loudness, limited: run.limiting > 0)
    }
    var gain = search.best.gain
    // A sample of a click track stands for the whole of it: the same clicks over and over.
    // Music wanders and cues come and go, so then the written pass is measured as well.
    let verify = !passes.sampleIsWhole && (settings.music != nil || !cues.isEmpty)
    var written = try passes.write(gain: gain, limited: true, metered: verify, tags: tags,
                                   commitIf: { abs($0 - target) <= 0.3 })
    if let loudness = written.loudness, !written.committed {
        // The sample was not typical (a spoken caution it did not include, a loud chorus it
        // missed): the whole is `offset` louder than the sample at this gain. Search the
        // sample again for the gain that puts the whole on the target, and write again.
        let miss = loudness - search.best.loudness
        search = search.retargeted(target - miss)
        while search.needsMore {
            let next = search.nextGain()
            if search.tried(next) { break }
            let run = try passes.searchRun(gain: next)
            search.record(gain: next, loudness: run.loudness, limited: run.limiting > 0)
        }
        gain = search.best.gain
        written = try passes.write(gain: gain, limited: true, metered: true, tags: tags)
    }
    let loudness = written.loudness ?? search.best.loudness
    return TrackReport(loudness: loudness, gain: gain, limiting: written.limiting, targetMissed: loudness < target - 0.5,
                       renderSeconds: written.renderSeconds, phases: plan.timings())
}
