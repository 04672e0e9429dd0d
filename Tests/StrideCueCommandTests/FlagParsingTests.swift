import ArgumentParser
import Testing
import StrideCueCore
import StrideCueSession
@testable import StrideCueCLI

/// What `stridecue` prints and exits with for a command line that ArgumentParser or a
/// command's `validate()` refuses: parsed in process, as `StrideCue.main` does.
private func refusal(_ arguments: [String]) -> (line: String, status: Int32)? {
    do {
        _ = try StrideCue.parseAsRoot(arguments)
        return nil
    } catch let error as any UserFacingError {
        return ("stridecue: \(error)", error.exitStatus)
    } catch {
        let status = StrideCue.exitCode(for: error).rawValue
        return ("stridecue: \(StrideCue.usageLine(for: error))", status == 1 ? 64 : status)
    }
}

@Suite("Flags, parsed in process")
struct FlagParsingTests {
    @Test(arguments: [
        // render: the session's values
        (["render", "--spm", "0", "-o", "x.wav"], "--spm must be a number of steps per minute from 30 to 300, such as 172.5; got '0'"),
        (["render", "--spm", "10000", "-o", "x.wav"], "--spm must be a number of steps per minute from 30 to 300, such as 172.5; got '10000'"),
        (["render", "--spm", "nan", "-o", "x.wav"], "--spm must be a number of steps per minute from 30 to 300, such as 172.5; got 'nan'"),
        (["render", "--spm", "0x96", "-o", "x.wav"], "--spm must be a number of steps per minute from 30 to 300, such as 172.5; got '0x96'"),
        (["render", "--spm", "fast", "-o", "x.wav"], "--spm must be a number of steps per minute from 30 to 300, such as 172.5; got 'fast'"),
        (["render", "--duration", "0s", "-o", "x.wav"], "--duration must be a length from 1 ms to 24 h, such as 90s, 10m, 1h or 1:30; got '0s'"),
        (["render", "--duration", "100h", "-o", "x.wav"], "--duration must be a length from 1 ms to 24 h, such as 90s, 10m, 1h or 1:30; got '100h'"),
        (["render", "--duration", "-5m", "-o", "x.wav"], "--duration must be a length from 1 ms to 24 h, such as 90s, 10m, 1h or 1:30; got '-5m'"),
        (["render", "--duration", "soon", "-o", "x.wav"], "--duration must be a length from 1 ms to 24 h, such as 90s, 10m, 1h or 1:30; got 'soon'"),
        (["render", "--accent-every", "-1", "-o", "x.wav"], "--accent-every must be a whole number from 0 to 64; got '-1'"),
        (["render", "--subdivide", "5", "-o", "x.wav"], "--subdivide must be a whole number from 1 to 4; got '5'"),
        (["render", "--count-in=-1", "-o", "x.wav"], "--count-in must be a whole number from 0 to 32; got '-1'"),
        // render: the file
        (["render", "--rate", "1000", "-o", "x.wav"], "--rate must be a sample rate in Hz from 8000 to 192000, such as 48000; got '1000'"),
        (["render", "--channels", "6", "-o", "x.wav"], "--channels must be 1 (mono) or 2 (stereo); got '6'"),
        (["render", "--bits", "12", "-o", "x.wav"], "--bits must be 16, 24 or 32f (32-bit float); got '12'"),
        (["render", "-o", "x.aiff"], "-o x.aiff: cannot write '.aiff'; use a .wav, .flac, .ogg, .opus, .mp3 or .m4a name"),
        (["render", "--stem", "drums", "-o", "x.wav"], "--stem must be voice, clicks or music; got 'drums'"),
        (["render", "--stem", "mix", "-o", "x.wav"], "--stem must be voice, clicks or music; got 'mix'"),
        (["render", "--cue-sheet", "cues.txt", "-o", "x.wav"], "--cue-sheet cues.txt: use a .csv name, or - for standard output"),
        (["render", "--loudness", "3", "-o", "x.mp3"], "--loudness must be between -40 and -5 LUFS; got '3'"),
        // An unknown option is news before a missing -o (which run() reports).
        (["render", "--bogus"], "Unknown option '--bogus'. Did you mean '--bits'?"),
        // export
        (["export", "x", "--to", "out", "--format", "aac"], "--format must be mp3, m4a, opus, ogg, flac or wav; got 'aac'"),
        (["export", "x", "--to", "out", "--format", "opus", "--rate", "44100"],
         "--format opus: Opus supports 8000, 12000, 16000, 24000 or 48000 Hz, not 44100"),
        (["export", "x", "--to", "out", "--rate", "96000"],
         "--format mp3: MP3 supports 8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100 or 48000 Hz, not 96000"),
        (["export", "x", "--to", "out", "--format", "flac", "--quality", "5"], "--quality applies to .mp3, .ogg and .opus; FLAC is lossless"),
        (["export", "x", "--to", "out", "--quality", "11"], "--quality must be a whole number from 0 to 10; got '11'"),
        (["export", "x", "--to", "out", "--loudness", "-14", "--no-normalize"], "--loudness cannot be used with --no-normalize"),
        (["export", "x", "--to", "out", "--music-level", "-3"], "--music-level needs --music"),
        (["export", "x", "--to", "out", "--channels", "3"], "--channels must be 1 (mono) or 2 (stereo); got '3'"),
        (["export", "--to", "out"], "PRESET is missing: name presets or use --all"),
        (["export", "x", "--all", "--to", "out"], "--all cannot be used with preset names"),
        // play
        (["play", "--device", ""], "--device must be an ALSA device name such as default or hw:1,0 ('stridecue devices' lists them); got ''"),
        (["play", "--latency", "5"], "--latency must be between 10 and 2000 ms; got '5'"),
        (["play", "--latency", "0x10"], "--latency must be a length in milliseconds, such as 100; got '0x10'"),
        // play and coach take render's music flags, checked the same way
        (["play", "--music-level", "-3"], "--music-level needs --music"),
        (["play", "--music", "m.wav", "--duck", "50"], "--duck must be between 0 and 40 dB; got '50'"),
        (["coach", "--duck", "5"], "--duck needs --music"),
        // the coach's remote
        (["play", "--remote", "1.2.3:80"], "--remote must be [ADDRESS:]PORT, such as 8080 or 0.0.0.0:8080 (an IPv4 address or localhost; port 0–65535); got '1.2.3:80'"),
        (["play", "--remote", "70000"], "--remote must be [ADDRESS:]PORT, such as 8080 or 0.0.0.0:8080 (an IPv4 address or localhost; port 0–65535); got '70000'"),
        (["coach", "--remote", "example.com:80"], "--remote must be [ADDRESS:]PORT, such as 8080 or 0.0.0.0:8080 (an IPv4 address or localhost; port 0–65535); got 'example.com:80'"),
        (["coach", "--remote", "/tmp/socket"], "--remote must be [ADDRESS:]PORT, such as 8080 or 0.0.0.0:8080 (an IPv4 address or localhost; port 0–65535); got '/tmp/socket'"),
        // say
        (["say", "", "-o", "x.wav"], "<text> must be words to speak: 1 to 200 characters, no control characters; got ''"),
        (["say", "pull\u{1B}]0;PWNED\u{07}", "-o", "x.wav"],
         "<text> must be words to speak: 1 to 200 characters, no control characters; got 'pull\\u{1b}]0;PWNED\\u{7}'"),
        (["say", "hi", "-o", "x.mp3"], "-o x.mp3: use a .wav name"),
        (["say", "hi", "--steps", "0", "-o", "x.wav"], "--steps must be a whole number from 1 to 64; got '0'"),
    ])
    func aBadFlagIsOneLineNamingItAndExits64(arguments: [String], message: String) {
        let refused = refusal(arguments)
        #expect(refused?.line == "stridecue: " + message)
        #expect(refused?.status == 64)
        #expect(refused?.line.contains("\n") == false)
    }

    @Test func aLongValueIsEchoedShort() {
        let long = String(repeating: "9", count: 10_000)
        let refused = refusal(["render", "--spm", long, "-o", "x.wav"])
        #expect(refused?.status == 64)
        #expect((refused?.line.count ?? .max) < 200, "\(refused?.line.count ?? 0) characters")
    }

    @Test func goodFlagsBecomeTypedValues() throws {
        let parsed = try StrideCue.parseAsRoot(["render", "bum-kicks", "--spm", "172.5", "--duration", "1:30", "--accent-every", "2",
                                               "--rate", "44100", "--channels", "1", "--bits", "24", "-o", "x.flac"])
        let render = try #require(parsed as? Render)
        #expect(render.session.request.cadence == 172.5)
        #expect(render.session.request.duration == 90)
        #expect(render.session.request.accentEvery == 2)
        #expect(render.session.request.preset == "bum-kicks")
        #expect(render.track.format.sampleRate == 44_100 && render.track.format.channels == 1)
        #expect(render.bits == .pcm24)
    }

    @Test func defaultsAreWhatTheHelpSays() throws {
        let play = try #require(try StrideCue.parseAsRoot(["play"]) as? Play)
        #expect(play.output.device.name == "default")
        #expect(play.output.rate.hz == 48_000)
        #expect(play.session.request == SessionRequest())
        #expect(play.remote == nil, "no server unless asked for")
        let coach = try #require(try StrideCue.parseAsRoot(["coach"]) as? Coach)
        #expect(coach.remote.host == "127.0.0.1" && coach.remote.port == 8080)
        let shared = try #require(try StrideCue.parseAsRoot(["play", "--remote", "0.0.0.0:8081"]) as? Play)
        #expect(shared.remote?.host == "0.0.0.0" && shared.remote?.port == 8081)
        let local = try #require(try StrideCue.parseAsRoot(["play", "--remote", "9000"]) as? Play)
        #expect(local.remote?.host == "127.0.0.1" && local.remote?.port == 9000)
    }

    @Test func linkIsOffUnlessAskedForInPlayAndCoach() throws {
        let play = try #require(try StrideCue.parseAsRoot(["play"]) as? Play)
        #expect(!play.output.link && !play.output.player(keys: false, verbose: false).link)
        let linked = try #require(try StrideCue.parseAsRoot(["play", "--link"]) as? Play)
        #expect(linked.output.player(keys: false, verbose: false).link)
        let coach = try #require(try StrideCue.parseAsRoot(["coach", "--link"]) as? Coach)
        #expect(coach.output.player(keys: true, verbose: false).link)
    }
}
