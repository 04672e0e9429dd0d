import Glibc
import HTTPTypes
import StrideCueCore
import StrideCueFiles
import StrideCueSession
import StrideCueTerminal
import Synchronization
import StrideCuePresets
import StrideCueLive

/// A drill as the remote sees it while it plays: the live player's queue and status board,
/// and what the page shows about the plan. Made by the front end that plays it.
public final class RemoteDrill: @unchecked Sendable {
    public let live: LivePlayback
    public let plan: SessionPlan
    /// The preset's name, or nil for a plain click track.
    public let preset: String?
    public let rate: Int
    /// The cue sounds as prepared for the drill (the page's cue buttons say them).
    let cues: CueVoices?
    /// The cues as the plan picture lays them out.
    private let planCueList: [PlanCue]
    /// The plan picture as the session plays it: the plan at the coach's cadence, with the
    /// edits saved for this preset since the drill started; redrawn when either changes.
    private let drawing: Mutex<Drawing>

    struct Drawing {
        var cadence: Double
        var saved = PresetEdits()
        var layout: PlanLayout
        var svg: String
        /// Bumped on every redraw, so the page knows to fetch the picture again.
        var number = 0
    }

    /// Values saved from the page's edit card (they play from the next start).
    struct PresetEdits: Equatable {
        var cadence: Double?
        var rampFrom: Double?
        var rampSteps: Int?
        var rest: Double?
    }

    /// The runner's sensor (`play --sensor`), and the time held in the target band as the
    /// statuses sent saw it.
    let sensor: SensorReadings?
    let band: Mutex<CadenceBand>

    public init(live: LivePlayback, prepared: PreparedSession, preset: String?, sensor: SensorReadings? = nil) {
        self.sensor = sensor
        band = Mutex(CadenceBand(tolerance: prepared.plan.feedback.band))
        self.live = live
        plan = prepared.plan
        self.preset = preset
        rate = prepared.format.sampleRate
        cues = prepared.cues
        let root = prepared.preset?.preset.root
        planCueList = root.map { planCues(in: $0) } ?? []
        let layout = PlanLayout(plan: prepared.plan, cues: planCueList)
        drawing = Mutex(Drawing(cadence: prepared.plan.cadence, layout: layout, svg: planPicture(layout)))
    }

    /// The picture and its layout for the cadence asked for now (redrawn if it changed).
    func picture(cadence: Double) -> (layout: PlanLayout, svg: String, number: Int) {
        drawing.withLock { d in
            if d.cadence != cadence { redraw(&d, cadence: cadence, saved: d.saved) }
            return (d.layout, d.svg, d.number)
        }
    }

    /// The page saved `edits` to this drill's preset: the picture shows them from now on.
    func saved(_ edits: PresetEdits) {
        drawing.withLock { d in
            var merged = d.saved
            if let v = edits.cadence { merged.cadence = v }
            if let v = edits.rampFrom { merged.rampFrom = v }
            if let v = edits.rampSteps { merged.rampSteps = v }
            if let v = edits.rest { merged.rest = v }
            redraw(&d, cadence: d.cadence, saved: merged)
        }
    }

    private func redraw(_ d: inout Drawing, cadence: Double, saved: PresetEdits) {
        var drawn = plan
        // What plays now: the coach's cadence (a ramp still starts where the plan has it); and
        // the rest and ramp as saved.
        drawn.cadence = cadence
        if let v = saved.rest { drawn.rest = v }
        if var ramp = drawn.ramp {
            if let v = saved.rampFrom { ramp.from = v }
            if let v = saved.rampSteps { ramp.steps = v }
            drawn.ramp = ramp
        }
        var notes: [String] = []
        if cadence != plan.cadence { notes.append("at the coach's \(numberText(cadence)) spm (the plan: \(numberText(plan.cadence)))") }
        if saved != PresetEdits() {
            var what: [String] = []
            if let v = saved.cadence { what.append("cadence \(numberText(v))") }
            if let v = saved.rampFrom { what.append("ramp from \(numberText(v))") }
            if let v = saved.rampSteps { what.append("ramp steps \(v)") }
            if let v = saved.rest { what.append("rest \(numberText(v)) s") }
            notes.append("saved: " + what.joined(separator: ", "))
        }
        let layout = PlanLayout(plan: drawn, cues: planCueList)
        d.cadence = cadence
        d.saved = saved
        d.layout = layout
        d.svg = planPicture(layout, subtitle: notes.isEmpty ? nil : notes.joined(separator: "; "))
        d.number += 1
    }

    /// The cue texts the page offers as buttons: a cue's words, or its sound's name.
    var cueLabels: [String] {
        plan.cues.map { cue in
            switch cue.source {
            case .say(let text): return text
            case .sound(let file): return file
            }
        }
    }
}

/// What the front end is asked to do next by the remote.
public enum CoachRequest: Sendable, Equatable {
    /// Play this preset (a name from the library, never a path).
    case start(preset: String)
}

/// The coach's remote for one run of `stridecue play --remote` or `stridecue coach`: the
/// token, the drill that plays now, and what the coach asked for.
///
/// The server's threads call in here; the front end's main thread attaches and detaches
/// drills and takes the coach's requests. Commands reach the audio thread only through the
/// live player's command queue.
public final class CoachRemote: @unchecked Sendable {
    public let token: RemoteToken
    let limiter = FailureLimiter()
    /// The names this server answers to (Host, Origin).
    let hostAllowList = HostAllowList()
    /// Open connections, limited in all and per address.
    let connections = ConnectionCounter(total: RemoteServer.connectionLimit)
    private let current = Mutex<RemoteDrill?>(nil)
    private let requests = Mutex<[CoachRequest]>([])
    /// Bumped on every attach, detach and request: a change the page must see at once.
    let revision = Atomic<Int>(0)
    /// Signalled when a request arrives, so the front end's wait ends.
    let arrived = WakeUp()
    /// The names in the drill library, for the page and `/api/start`.
    public let library: @Sendable () -> [String]
    /// Saves cadence, ramp and rest of a preset (the user's copy), as `preset set` does;
    /// returns the lines it reports or throws its one-line error.
    public let save: @Sendable (_ preset: String, _ assignments: [PresetAssignment]) throws -> String

    public init(library: @escaping @Sendable () -> [String],
                save: @escaping @Sendable (String, [PresetAssignment]) throws -> String) throws {
        token = try RemoteToken.fresh()
        self.library = library
        self.save = save
    }

    // MARK: The front end's side

    /// The drill now playing; commands and status go to it.
    public func attach(_ drill: RemoteDrill) {
        lastMessage.withLock { $0 = nil }
        current.withLock { $0 = drill }
        revision.add(1, ordering: .releasing)
    }

    /// Playback ended: the page shows the library again.
    public func detach() {
        current.withLock { $0 = nil }
        revision.add(1, ordering: .releasing)
    }

    /// Shows a one-line message on every page (a drill that could not start, say).
    public func report(_ message: String) {
        lastMessage.withLock { $0 = message }
        revision.add(1, ordering: .releasing)
    }

    let lastMessage = Mutex<String?>(nil)

    /// Takes the oldest request, if any.
    public func takeRequest() -> CoachRequest? {
        arrived.drain()
        return requests.withLock { $0.isEmpty ? nil : $0.removeFirst() }
    }

    /// Waits for a request, for at most `milliseconds` (a signal also ends the wait).
    public func waitForRequest(milliseconds: Int32) -> CoachRequest? {
        if let request = takeRequest() { return request }
        arrived.wait(milliseconds: milliseconds)
        return takeRequest()
    }

    // MARK: The server's side

    var drill: RemoteDrill? { current.withLock { $0 } }

    /// Hands a command to the drill now playing. False when none plays.
    @discardableResult
    func send(_ command: LiveCommand) -> Bool {
        guard let drill else { return false }
        return drill.live.commands.push(command)
    }

    /// Says `key`'s sound in `drill`, the drill the request saw, made by `make` when the drill
    /// has not said it before. The sound is kept in that drill's own store and pushed to that
    /// drill's queue only: the drill that plays it owns its memory, whatever starts meanwhile.
    func say(_ key: String, in drill: RemoteDrill, level: Double = 0, make: @Sendable () async -> Result<[Float], Refusal>) async -> Refusal? {
        let store = drill.live.spoken
        var sample = store.sample(for: key)
        if sample == nil {
            switch await make() {
            case .success(let samples): sample = store.add(samples, level: level, for: key)
            case .failure(let refusal): return refusal
            }
        }
        guard let sample else {
            return Refusal(status: .tooManyRequests, message: "\(SpokenSamples.capacity) different sounds said in this drill already")
        }
        // Another drill started while the words were made: they were for the one that ended.
        guard self.drill === drill else {
            return Refusal(status: .conflict, message: "another drill started meanwhile; nothing was said")
        }
        guard drill.live.commands.push(.say(sample)) else {
            return Refusal(status: .serviceUnavailable, message: "too many commands at once; try again")
        }
        return nil
    }

    /// Asks the front end to play `preset`, stopping what plays now.
    func request(_ request: CoachRequest) {
        requests.withLock { queue in
            queue.removeAll()
            queue.append(request)
        }
        send(.stop)
        revision.add(1, ordering: .releasing)
        arrived.signal()
    }

    /// Forgets a start asked for but not yet begun.
    func cancelRequests() {
        requests.withLock { $0.removeAll() }
        revision.add(1, ordering: .releasing)
    }

    var pendingStart: String? {
        requests.withLock { queue in
            queue.last.map { request in
                switch request {
                case .start(let preset): return preset
                }
            }
        }
    }
}
