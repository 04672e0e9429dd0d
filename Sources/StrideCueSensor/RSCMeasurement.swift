/// One notification of the Bluetooth Running Speed and Cadence profile's RSC Measurement
/// characteristic (0x2A53), decoded.
///
/// The bytes, little-endian: flags (bit 0 stride length present, bit 1 total distance present,
/// bit 2 running rather than walking), speed (uint16, 1/256 m/s), cadence (uint8, steps per
/// minute), then the stride length (uint16, 1/100 m) and the total distance (uint32, 1/10 m)
/// when their flags say so. Pure: no Bluetooth needed to test it.
public struct RSCMeasurement: Sendable, Equatable {
    /// Metres per second.
    public var speed: Double
    /// Steps per minute (both feet), as the sensor counts them.
    public var cadence: Int
    /// Metres, when present.
    public var strideLength: Double?
    /// Metres since the sensor started counting, when present.
    public var totalDistance: Double?
    /// The sensor's own guess: running (true) or walking.
    public var running: Bool

    public init(speed: Double, cadence: Int, strideLength: Double? = nil, totalDistance: Double? = nil, running: Bool) {
        self.speed = speed
        self.cadence = cadence
        self.strideLength = strideLength
        self.totalDistance = totalDistance
        self.running = running
    }

    /// Decodes the value of one notification.
    /// - Throws: `RSCMeasurementError` when the length does not match what the flags announce:
    ///   such a notification is refused whole (counted as malformed), never half-read.
    public init(bytes: [UInt8]) throws(RSCMeasurementError) {
        guard let flags = bytes.first else { throw .wrongLength(got: 0, expected: Self.minimumLength) }
        let hasStride = flags & 0x01 != 0
        let hasDistance = flags & 0x02 != 0
        let expected = Self.minimumLength + (hasStride ? 2 : 0) + (hasDistance ? 4 : 0)
        guard bytes.count == expected else { throw .wrongLength(got: bytes.count, expected: expected) }
        func uint(_ at: Int, _ count: Int) -> UInt32 {
            (0..<count).reduce(UInt32(0)) { $0 | UInt32(bytes[at + $1]) << (8 * $1) }
        }
        speed = Double(uint(1, 2)) / 256
        cadence = Int(bytes[3])
        running = flags & 0x04 != 0
        var at = 4
        strideLength = nil
        totalDistance = nil
        if hasStride {
            strideLength = Double(uint(at, 2)) / 100
            at += 2
        }
        if hasDistance {
            totalDistance = Double(uint(at, 4)) / 10
        }
    }

    /// Flags, speed and cadence.
    public static let minimumLength = 4
}

/// A notification that is not an RSC Measurement.
public enum RSCMeasurementError: Error, Sendable, Equatable, CustomStringConvertible {
    case wrongLength(got: Int, expected: Int)

    public var description: String {
        switch self {
        case .wrongLength(let got, let expected):
            "an RSC measurement of \(got) byte\(got == 1 ? "" : "s") where its flags announce \(expected)"
        }
    }
}
