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
