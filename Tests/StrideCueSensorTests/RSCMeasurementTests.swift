import StrideCueSensor
import Testing

/// The RSC Measurement decoder on exact bytes, as footpods send them.
@Suite struct RSCMeasurementTests {
    @Test func speedAndCadenceOnly() throws {
        // flags 0 (walking), speed 0x0333 = 819/256 m/s, cadence 0xB0 = 176.
        let m = try RSCMeasurement(bytes: [0x00, 0x33, 0x03, 0xB0])
        #expect(m == RSCMeasurement(speed: 819.0 / 256, cadence: 176, running: false))
    }

    @Test func runningWithStrideLengthAndDistance() throws {
        // flags 0x07: stride (0x006E = 110 cm), distance (0x00003039 = 12345 dm), running.
        let m = try RSCMeasurement(bytes: [0x07, 0x33, 0x03, 0xB0, 0x6E, 0x00, 0x39, 0x30, 0x00, 0x00])
        #expect(m.cadence == 176)
        #expect(m.speed == 819.0 / 256)
        #expect(m.strideLength == 1.10)
        #expect(m.totalDistance == 1234.5)
        #expect(m.running)
    }

    @Test func distanceWithoutStrideLength() throws {
        // flags 0x02: the distance follows the cadence at once. 0xFFFFFFFF dm is the largest.
        let m = try RSCMeasurement(bytes: [0x02, 0x00, 0x01, 0x00, 0xFF, 0xFF, 0xFF, 0xFF])
        #expect(m.speed == 1)
        #expect(m.cadence == 0)
        #expect(m.strideLength == nil)
        #expect(m.totalDistance == 429_496_729.5)
        #expect(!m.running)
    }

    @Test func largestSpeedAndCadence() throws {
        let m = try RSCMeasurement(bytes: [0x04, 0xFF, 0xFF, 0xFF])
        #expect(m.speed == 65535.0 / 256)
        #expect(m.cadence == 255)
    }

    @Test(arguments: [
        ([], 4),
        ([0x00], 4),
        ([0x00, 0x33, 0x03], 4),
        ([0x00, 0x33, 0x03, 0xB0, 0x00], 4),          // a byte too many
        ([0x01, 0x33, 0x03, 0xB0, 0x6E], 6),          // stride announced, one byte of it
        ([0x02, 0x33, 0x03, 0xB0, 0x39, 0x30, 0x00], 8),  // distance announced, three bytes of it
        ([0x03, 0x33, 0x03, 0xB0, 0x6E, 0x00], 10),   // both announced, the distance missing
    ] as [([UInt8], Int)])
    func malformedLengthsAreRefusedWhole(bytes: [UInt8], expected: Int) {
        #expect(throws: RSCMeasurementError.wrongLength(got: bytes.count, expected: expected)) {
            try RSCMeasurement(bytes: bytes)
        }
    }

    @Test func theRefusalSaysWhatWasWrong() {
        let error = RSCMeasurementError.wrongLength(got: 3, expected: 4)
        #expect(error.description == "an RSC measurement of 3 bytes where its flags announce 4")
    }
}
