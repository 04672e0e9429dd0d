import StrideCueCore
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
