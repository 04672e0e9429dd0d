import StrideCueCore
import StrideCueFiles

/// `stridecue sensors`: scans, then reads each running sensor found for a moment.
public enum SensorScan {
    /// How long each sensor is given to send its first measurement.
    public static let readSeconds = 4.0

    /// One sensor as listed.
    public struct Found: Sendable, Equatable {
        public var device: SensorDevice
        /// What it reported, or why nothing: nil with `problem` set.
        public var measurement: RSCMeasurement?
        public var problem: String?
    }

    /// Scans for `seconds` on every powered adapter, then connects to each running sensor
    /// (unless connected already) to read what it reports now; a sensor StrideCue connected
    /// to is disconnected again.
    public static func scan(seconds: Double) throws(SensorError) -> [Found] {
        let client = try BlueZClient()
        let adapters = try client.poweredAdapters(in: try client.objects())
        try client.startDiscovery(adapters)
        let deadline = monotonicSeconds() + seconds
        while monotonicSeconds() < deadline {
            _ = try client.signals(waiting: deadline - monotonicSeconds())
        }
        client.stopDiscovery(adapters)
        var found: [Found] = []
        for device in try client.objects().sensors {
            found.append(read(device, with: client))
        }
        return found
    }

    private static func read(_ device: SensorDevice, with client: BlueZClient) -> Found {
        var entry = Found(device: device)
        do {
            let characteristic = try client.subscribe(device, within: readSeconds)
            defer { if !device.connected { client.disconnect(device.path) } }
            let deadline = monotonicSeconds() + readSeconds
            var malformed = 0
            while monotonicSeconds() < deadline {
                for case .propertiesChanged(characteristic, "org.bluez.GattCharacteristic1", let changed)
                    in try client.signals(waiting: deadline - monotonicSeconds()) {
                    guard let value = changed["Value"]?.bytes else { continue }
                    do {
                        entry.measurement = try RSCMeasurement(bytes: value)
                        return entry
                    } catch {
                        malformed += 1
                    }
                }
            }
            entry.problem = malformed > 0 ? "sent \(malformed) malformed measurement\(malformed == 1 ? "" : "s")"
                : "no measurement in \(format(readSeconds)) s"
        } catch {
            entry.problem = "\(error)"
        }
        return entry
    }

    /// The listing, one line per sensor.
    public static func lines(_ found: [Found], seconds: Double) -> [String] {
        guard !found.isEmpty else {
            return ["No running sensor found in \(format(seconds)) s. Wake it with a few steps (most sleep when still),",
                    "  check that a watch or phone is not holding it, and try a longer --scan."]
        }
        var lines = ["Running sensors (Bluetooth LE Running Speed and Cadence) for --sensor:"]
        let width = min(32, found.map { quoted($0.device.name).count }.max() ?? 0)
        for entry in found {
            let name = quoted(entry.device.name)
            let padding = String(repeating: " ", count: max(1, width - name.count + 2))
            var now: String
            if let m = entry.measurement {
                now = m.cadence == 0 ? "standing (0 spm)" : "\(m.cadence) spm"
                now += ", \(format((m.speed * 100).rounded() / 100)) m/s"
            } else {
                now = entry.problem ?? ""
            }
            lines.append("  \(name)\(padding)\(entry.device.address)  \(entry.device.connected ? "connected" : "not connected")  \(now)")
        }
        return lines
    }
}
