import StrideCueCore
import StrideCueLive
import Testing

/// Time in the target band, counted in session frames between the measurements sampled.
@Suite struct CadenceBandTests {
    @Test func heldTimeCountsOnlyBetweenTwoSamplesInTheBand() {
        var band = CadenceBand()
        band.update(frame: 0, target: 180, measured: 172)  // 8 under
        #expect(!band.inBand && band.heldFrames == 0)
        band.update(frame: 4_800, target: 180, measured: 178)  // in, but the time before was out
        #expect(band.inBand && band.heldFrames == 0)
        band.update(frame: 9_600, target: 180, measured: 182)  // ±2 is in
        band.update(frame: 14_400, target: 180, measured: 180)
        #expect(band.heldFrames == 9_600 && band.totalFrames == 9_600)
        band.update(frame: 19_200, target: 180, measured: 183)  // out: the streak ends
        #expect(!band.inBand && band.heldFrames == 0 && band.totalFrames == 9_600)
        band.update(frame: 24_000, target: 180, measured: 181)
        band.update(frame: 28_800, target: 180, measured: 181)
        #expect(band.heldFrames == 4_800 && band.totalFrames == 14_400)
    }

    @Test func noMeasurementIsNeverInTheBand() {
        var band = CadenceBand()
        band.update(frame: 0, target: 180, measured: 180)
        band.update(frame: 4_800, target: 180, measured: nil)
        #expect(!band.inBand && band.heldFrames == 0 && band.totalFrames == 0)
    }

    @Test func aPauseHoldsTheClock() {
        var band = CadenceBand()
        band.update(frame: 0, target: 180, measured: 180)
        band.update(frame: 4_800, target: 180, measured: 180)
        band.update(frame: 4_800, target: 180, measured: 180)  // paused: the session's frame holds
        #expect(band.heldFrames == 4_800)
    }

    @Test func aNewTargetIsJudgedAtOnce() {
        var band = CadenceBand()
        band.update(frame: 0, target: 180, measured: 180)
        band.update(frame: 4_800, target: 185, measured: 180)  // the target moved away
        #expect(!band.inBand && band.heldFrames == 0)
    }
}

/// The session log's rows and summary from samples of the status and the sensor.
@Suite struct SessionLogTests {
    @Test func aRowPerStepHeardWithTheMeasurementThenASummary() {
        var log = SessionLog(format: .csv, rate: 48_000)
        let reading = SensorReading(state: .reading, cadence: 180, speed: 3.5, measurements: 4)
        var s = LiveStatus(frame: 0, cadence: 180, targetCadence: 180, set: 0, sets: 1, step: 0)
        log.sample(s, sensor: reading)  // before the first step: no row
        for step in 1...3 {
            s.step = step
            s.frame = Int64(step - 1) * 16_000
            log.sample(s, sensor: reading)
            log.sample(s, sensor: reading)  // the same step sampled twice: one row
        }
        s.step = 4
        s.frame = 48_000
        log.sample(s, sensor: SensorReading(state: .silent, cadence: 180, speed: 3.5, malformed: 1))
        #expect(log.text == """
            time_s,set,step,target_spm,measured_spm,speed_mps,sensor
            0.000,1,1,180,180,3.50,reading
            0.333,1,2,180,180,3.50,reading
            0.667,1,3,180,180,3.50,reading
            1.000,1,4,180,,,silent
            # steps 4; in band 0.7 s; steps without a measurement 1; malformed 1; reconnects 0
            # set 1: mean cadence 180.0 spm

            """)
    }

    @Test func theFormatComesFromTheExtension() {
        #expect(SessionLog.Format(path: "run.CSV") == .csv)
        #expect(SessionLog.Format(path: "/tmp/run.json") == .json)
        #expect(SessionLog.Format(path: "run.txt") == nil)
        #expect(SessionLog.Format(path: "csv") == nil)
    }
}

/// `feedback: nudge`: where the click is asked to go, from the measurements.
@Suite struct NudgeFeedbackTests {
    @Test func startsAtTheRunnerAndStepsTowardTheTargetOnlyOnceCaughtUp() {
        var nudge = NudgeFeedback()
        #expect(nudge.update(measured: 170, goal: 180, now: 0) == 170)  // start where the runner is
        #expect(nudge.update(measured: 170, goal: 180, now: 1) == nil)  // settling
        #expect(nudge.update(measured: 170, goal: 180, now: 3) == 173)  // caught up: +2 % (3.4 → 3 spm)
        #expect(nudge.update(measured: 170, goal: 180, now: 7) == nil)  // not caught up with 173
        #expect(nudge.update(measured: 172, goal: 180, now: 8) == 176)  // within ±2 of 173
        #expect(nudge.update(measured: 176, goal: 180, now: 11) == 180)  // 176 + 4 reaches the target, never past it
        #expect(nudge.update(measured: 180, goal: 180, now: 20) == nil)
        #expect(nudge.click == 180 && nudge.moved == 10)
    }

    @Test func aRunnerOnTargetIsLeftAloneAndASlowerTargetIsApproachedFromAbove() {
        var on = NudgeFeedback()
        #expect(on.update(measured: 181, goal: 180, now: 0) == nil)
        var down = NudgeFeedback()
        #expect(down.update(measured: 190, goal: 180, now: 0) == 190)
        #expect(down.update(measured: 190, goal: 180, now: 3) == 186)
    }

    @Test func withoutAMeasurementTheClickGoesBackToThePlan() {
        var nudge = NudgeFeedback()
        #expect(nudge.update(measured: 170, goal: 180, now: 0) == 170)
        #expect(nudge.update(measured: nil, goal: 180, now: 2) == nil)
        #expect(nudge.update(measured: 0, goal: 180, now: 3) == 180)  // standing for 3 s: the plan's cadence
        #expect(nudge.click == nil)
    }
}

/// The spoken nudge: "quicker" or "ease off" once the runner has stayed off target for a while,
/// and not again too soon.
@Suite struct SpokenNudgeTests {
    static let rate = 48_000
    func seconds(_ s: Double) -> Int64 { Int64(s * Double(Self.rate)) }

    @Test func saysQuickerAfterTheRunnerStaysUnderAndNotAgainTooSoon() {
        var settings = SpokenNudgeSettings()
        settings.after = 5
        settings.every = 12
        var nudge = SpokenNudge(settings: settings, band: 2)
        #expect(nudge.update(frame: seconds(0), target: 180, measured: 172, rate: Self.rate) == nil)
        #expect(nudge.update(frame: seconds(4.9), target: 180, measured: 172, rate: Self.rate) == nil)
        #expect(nudge.update(frame: seconds(5), target: 180, measured: 172, rate: Self.rate) == .under)
        // Off target as long again (5 s) is not enough: at most every 12 s.
        #expect(nudge.update(frame: seconds(10), target: 180, measured: 172, rate: Self.rate) == nil)
        #expect(nudge.update(frame: seconds(16.9), target: 180, measured: 172, rate: Self.rate) == nil)
        #expect(nudge.update(frame: seconds(17), target: 180, measured: 172, rate: Self.rate) == .under)
        #expect(nudge.said == 2)
    }

    @Test func theBandAStandingRunnerAndAChangeOfSideStartTheClockAgain() {
        var settings = SpokenNudgeSettings()
        settings.after = 5
        settings.every = 5
        var nudge = SpokenNudge(settings: settings, band: 3)
        #expect(nudge.update(frame: seconds(0), target: 180, measured: 176, rate: Self.rate) == nil)
        #expect(nudge.update(frame: seconds(3), target: 180, measured: 177, rate: Self.rate) == nil)  // ±3 is in the band
        #expect(nudge.update(frame: seconds(6), target: 180, measured: 176, rate: Self.rate) == nil)  // out again from 6 s
        #expect(nudge.update(frame: seconds(10), target: 180, measured: 0, rate: Self.rate) == nil)  // standing
        #expect(nudge.update(frame: seconds(11), target: 180, measured: 190, rate: Self.rate) == nil)  // over from 11 s
        #expect(nudge.update(frame: seconds(15), target: 180, measured: 170, rate: Self.rate) == nil)  // under from 15 s
        #expect(nudge.update(frame: seconds(20), target: 180, measured: 170, rate: Self.rate) == .under)
        #expect(nudge.update(frame: seconds(21), target: 180, measured: 190, rate: Self.rate) == nil)
        #expect(nudge.update(frame: seconds(26), target: 180, measured: 190, rate: Self.rate) == .over)
        #expect(nudge.said == 2)
    }
}

/// The settings a preset gives `fade` and `nudge`.
@Suite struct FeedbackSettingsTests {
    @Test func aLongerHoldFadesLater() {
        var band = CadenceBand()
        band.update(frame: 0, target: 180, measured: 180)
        band.update(frame: 9 * 48_000, target: 180, measured: 180)
        #expect(FadeFeedback().clickLevel(band: band, rate: 48_000) == 0)
        #expect(FadeFeedback(hold: 10).clickLevel(band: band, rate: 48_000) == 1)
    }

    @Test func aLargerStepNudgesFurther() {
        var nudge = NudgeFeedback(step: 0.05)
        #expect(nudge.update(measured: 160, goal: 180, now: 0) == 160)
        #expect(nudge.update(measured: 160, goal: 180, now: 3) == 168)  // 5 % of 160
        #expect(nudge.update(measured: 165, goal: 180, now: 6, band: 3) == 176)  // within ±3 of 168
        #expect(nudge.moved == 16)
    }
}

/// What the log's summary adds under `nudge` and with a spoken nudge.
@Suite struct SessionLogFeedbackTests {
    @Test func theSummarySaysHowFarNudgeMovedTheClickAndHowOftenANudgeWasSaid() throws {
        for format in [SessionLog.Format.csv, .json] {
            var log = SessionLog(format: format, rate: 48_000, tolerance: 4)
            let reading = SensorReading(state: .reading, cadence: 176, speed: 3.2, measurements: 4)
            var s = LiveStatus(frame: 0, cadence: 180, targetCadence: 180, set: 0, sets: 1, step: 1)
            log.sample(s, sensor: reading)
            s.step = 2
            s.frame = 16_000
            log.sample(s, sensor: reading)
            log.nudgeMoved = 10
            log.spokenNudges = 2
            if format == .csv {
                #expect(log.text.hasSuffix("""
                    # steps 2; in band 0.3 s; steps without a measurement 0; malformed 0; reconnects 0
                    # nudge moved the click 10 spm
                    # spoken nudges 2
                    # set 1: mean cadence 176.0 spm

                    """), "\(log.text)")
            } else {
                #expect(log.text.contains("\"secondsInBand\":0.3,"), "±4 spm holds 176 against 180: \(log.text)")
                #expect(log.text.contains("\"nudgeMoved\":10,\"spokenNudges\":2,\"sets\":[{\"set\":1,\"meanCadence\":176.0}]"),
                        "\(log.text)")
            }
        }
    }
}
