import CSDBus
import StrideCueCore
import StrideCueFiles

/// The GATT UUIDs of the Running Speed and Cadence profile, as BlueZ spells them.
public enum RunningSpeedAndCadence {
    public static let service = "00001814-0000-1000-8000-00805f9b34fb"
    public static let measurement = "00002a53-0000-1000-8000-00805f9b34fb"
}

/// Why no sensor can be read: one line a runner can act on, exit 69 (unavailable) like a
/// missing sound card.
public enum SensorError: UserFacingError, Equatable {
    case noSystemBus(BusError)
    case noBlueZ
    case noAdapter
    case adapterOff([String])
    case notFound(String, seconds: Double, seen: [String])
    case connectFailed(String, BusError)
    case noMeasurement(String)
    case bus(BusError)

    public var exitStatus: Int32 { ExitStatus.unavailable }

    public var description: String {
        switch self {
        case .noSystemBus(let error):
            return "no system bus (\(error)): Bluetooth sensors are read through BlueZ on D-Bus"
        case .noBlueZ:
            return "BlueZ is not running (nobody owns org.bluez on the system bus); start it: systemctl start bluetooth"
        case .noAdapter:
            return "no Bluetooth adapter: BlueZ lists none; plug one in (a USB dongle) or check that it is not blocked (rfkill list)"
        case .adapterOff(let names):
            return "the Bluetooth adapter is off (\(names.joined(separator: ", "))); turn it on: bluetoothctl power on"
        case .notFound(let name, let seconds, let seen):
            let others = seen.isEmpty ? "none found" : "found: \(seen.joined(separator: ", "))"
            let what = name == "auto" ? "no running sensor" : "no running sensor '\(name)'"
            return "\(what) found in \(format(seconds)) s (\(others)); wake it with a few steps; 'stridecue sensors' lists them"
        case .connectFailed(let name, let error):
            return "could not connect to sensor '\(name)' (\(error))"
        case .noMeasurement(let name):
            return "sensor '\(name)' has no RSC Measurement characteristic (0x2A53) after connecting"
        case .bus(let error):
            return "Bluetooth: \(error)"
        }
    }
}

/// A device BlueZ knows that offers the Running Speed and Cadence service.
public struct SensorDevice: Sendable, Equatable {
    public var path: String
    public var address: String
    /// What BlueZ calls it (the advertised name), or the address.
    public var name: String
    public var connected: Bool
    public var servicesResolved: Bool

    /// Whether `choice` (a name or an address, any case; or `auto`) means this sensor.
    public func matches(_ choice: String) -> Bool {
        choice.lowercased() == "auto" || choice.lowercased() == address.lowercased() || choice.lowercased() == name.lowercased()
    }
}

/// What BlueZ publishes, from `ObjectManager.GetManagedObjects`: path → interface → properties.
struct BlueZObjects {
    var objects: [String: [String: [String: BusValue]]]

    /// Adapters and whether each is powered, by path.
    var adapters: [(path: String, powered: Bool)] {
        objects.compactMap { path, interfaces in
            interfaces["org.bluez.Adapter1"].map { (path, $0["Powered"]?.bool ?? false) }
        }.sorted { $0.path < $1.path }
    }

    /// Devices that advertise or offer the RSC service, sorted by path.
    var sensors: [SensorDevice] {
        objects.compactMap { path, interfaces -> SensorDevice? in
            guard let device = interfaces["org.bluez.Device1"] else { return nil }
            let uuids = (device["UUIDs"]?.strings ?? []).map { $0.lowercased() }
            guard uuids.contains(RunningSpeedAndCadence.service) else { return nil }
            let address = device["Address"]?.string ?? ""
            let name = device["Alias"]?.string ?? device["Name"]?.string ?? address
            return SensorDevice(path: path, address: address, name: name, connected: device["Connected"]?.bool ?? false,
                                servicesResolved: device["ServicesResolved"]?.bool ?? false)
        }.sorted { $0.path < $1.path }
    }

    func device(_ path: String) -> SensorDevice? { sensors.first { $0.path == path } }

    /// The RSC Measurement characteristic under a device, found by UUID (BlueZ numbers the
    /// objects by handle, which differs from sensor to sensor).
    func measurementCharacteristic(of device: String) -> String? {
        objects.filter { path, interfaces in
            path.hasPrefix(device + "/")
                && interfaces["org.bluez.GattCharacteristic1"]?["UUID"]?.string?.lowercased() == RunningSpeedAndCadence.measurement
        }.keys.sorted().first
    }
}

/// A signal from BlueZ, read out of its message inside `sd_bus_process`.
enum BlueZSignal {
    case propertiesChanged(path: String, interface: String, changed: [String: BusValue])
    case interfacesAdded(path: String)
    case interfacesRemoved(path: String, interfaces: [String])
}

/// Where the signal handler puts what it read; drained by the thread that owns the bus.
final class SignalInbox {
    var signals: [BlueZSignal] = []
    /// Signals that could not be read (not counted as a sensor's malformed measurement).
    var unreadable = 0
}

/// The signal handler every match shares: reads the message into the inbox.
private let receiveSignal: sd_bus_message_handler_t = { message, userdata, _ in
    guard let message, let userdata else { return 0 }
    let inbox = Unmanaged<SignalInbox>.fromOpaque(userdata).takeUnretainedValue()
    let reader = MessageReader(message: message)
    let path = reader.path ?? ""
    do {
        switch reader.member {
        case "PropertiesChanged":
            let interface = try reader.value().string ?? ""
            let changed = try reader.value().dictionary ?? [:]
            inbox.signals.append(.propertiesChanged(path: path, interface: interface, changed: changed))
        case "InterfacesAdded":
            inbox.signals.append(.interfacesAdded(path: try reader.value().string ?? ""))
        case "InterfacesRemoved":
            let object = try reader.value().string ?? ""
            inbox.signals.append(.interfacesRemoved(path: object, interfaces: try reader.value().strings ?? []))
        default:
            break
        }
    } catch {
        inbox.unreadable += 1
    }
    return 0
}

/// BlueZ's D-Bus API as StrideCue uses it: adapters, discovery, devices, GATT notifications.
/// One thread only (it owns an sd-bus connection).
final class BlueZClient {
    private let bus: SystemBus
    private let inbox = SignalInbox()
    static let service = "org.bluez"

    /// Connects to the system bus and asks for BlueZ's signals.
    init() throws(SensorError) {
        do {
            bus = try SystemBus()
        } catch {
            throw .noSystemBus(error)
        }
        let userdata = Unmanaged.passUnretained(inbox).toOpaque()
        do {
            try bus.addMatch("type='signal',sender='org.bluez',interface='org.freedesktop.DBus.Properties',"
                + "member='PropertiesChanged',path_namespace='/org/bluez'", receiveSignal, userdata)
            try bus.addMatch("type='signal',sender='org.bluez',interface='org.freedesktop.DBus.ObjectManager'",
                             receiveSignal, userdata)
        } catch {
            throw .bus(error)
        }
    }

    /// Everything BlueZ publishes now.
    func objects() throws(SensorError) -> BlueZObjects {
        do {
            let reply = try bus.call(Self.service, "/", "org.freedesktop.DBus.ObjectManager", "GetManagedObjects")
            let tree = try reply.reader.value().dictionary ?? [:]
            var objects: [String: [String: [String: BusValue]]] = [:]
            for (path, interfaces) in tree {
                objects[path] = (interfaces.dictionary ?? [:]).mapValues { $0.dictionary ?? [:] }
            }
            return BlueZObjects(objects: objects)
        } catch {
            if error.isUnknownService { throw .noBlueZ }
            throw .bus(error)
        }
    }

    /// The powered adapters' paths; a clear error when there are none.
    func poweredAdapters(in objects: BlueZObjects) throws(SensorError) -> [String] {
        let adapters = objects.adapters
        if adapters.isEmpty { throw .noAdapter }
        let powered = adapters.filter(\.powered).map(\.path)
        if powered.isEmpty { throw .adapterOff(adapters.map { String($0.path.split(separator: "/").last ?? "") }) }
        return powered
    }

    /// Starts an LE scan on each adapter; BlueZ adds what it finds to its objects.
    func startDiscovery(_ adapters: [String]) throws(SensorError) {
        for adapter in adapters {
            do {
                _ = try bus.call(Self.service, adapter, "org.bluez.Adapter1", "SetDiscoveryFilter") { (w) throws(BusError) in
                    try w.stringProperties([("Transport", "le")])
                }
                _ = try bus.call(Self.service, adapter, "org.bluez.Adapter1", "StartDiscovery")
            } catch {
                // Another program's scan is as good as ours.
                if error.name == "org.bluez.Error.InProgress" { continue }
                throw .bus(error)
            }
        }
    }

    func stopDiscovery(_ adapters: [String]) {
        for adapter in adapters {
            _ = try? bus.call(Self.service, adapter, "org.bluez.Adapter1", "StopDiscovery")
        }
    }

    /// Device1.Connect. BlueZ answers when the link is up; the services may resolve after.
    func connect(_ device: String) throws(BusError) {
        _ = try bus.call(Self.service, device, "org.bluez.Device1", "Connect", timeout: 30_000_000)
    }

    func disconnect(_ device: String) {
        _ = try? bus.call(Self.service, device, "org.bluez.Device1", "Disconnect")
    }

    /// GattCharacteristic1.StartNotify: each notification then comes as a PropertiesChanged
    /// signal on the characteristic, with its new `Value`.
    func startNotify(_ characteristic: String) throws(BusError) {
        _ = try bus.call(Self.service, characteristic, "org.bluez.GattCharacteristic1", "StartNotify")
    }

    /// Waits up to `seconds` for signals and returns those that came (at once when some are waiting).
    func signals(waiting seconds: Double) throws(SensorError) -> [BlueZSignal] {
        let deadline = monotonicSeconds() + seconds
        do {
            while true {
                while try bus.process() {}
                if !inbox.signals.isEmpty { break }
                let left = deadline - monotonicSeconds()
                if left <= 0 { break }
                try bus.wait(microseconds: UInt64(left * 1_000_000) + 1)
            }
        } catch {
            throw .bus(error)
        }
        defer { inbox.signals.removeAll(keepingCapacity: true) }
        return inbox.signals
    }

    /// Scans until a sensor that `choice` names is known, or `seconds` pass. Sensors BlueZ
    /// already knows (paired, or seen by an earlier scan) are taken without scanning.
    func find(_ choice: String, scanning seconds: Double) throws(SensorError) -> SensorDevice {
        var objects = try objects()
        let adapters = try poweredAdapters(in: objects)
        if let known = Self.pick(choice, objects.sensors) { return known }
        try startDiscovery(adapters)
        defer { stopDiscovery(adapters) }
        let deadline = monotonicSeconds() + seconds
        while monotonicSeconds() < deadline {
            let arrived = try signals(waiting: deadline - monotonicSeconds())
            guard arrived.contains(where: {
                if case .interfacesAdded = $0 { return true }
                if case .propertiesChanged(_, "org.bluez.Device1", _) = $0 { return true }
                return false
            }) else { continue }
            objects = try self.objects()
            if let found = Self.pick(choice, objects.sensors) { return found }
        }
        throw .notFound(choice, seconds: seconds, seen: objects.sensors.map(\.name))
    }

    /// The sensor `choice` means: for `auto`, a connected one first.
    static func pick(_ choice: String, _ sensors: [SensorDevice]) -> SensorDevice? {
        let matching = sensors.filter { $0.matches(choice) }
        return matching.first(where: \.connected) ?? matching.first
    }

    /// Connects (unless connected), waits for the services to resolve, finds the RSC
    /// Measurement characteristic and asks for its notifications. Returns its path.
    func subscribe(_ sensor: SensorDevice, within seconds: Double = 15) throws(SensorError) -> String {
        let deadline = monotonicSeconds() + seconds
        var objects = try objects()
        if !(objects.device(sensor.path)?.connected ?? false) {
            do {
                try connect(sensor.path)
            } catch {
                // BlueZ answers AlreadyConnected or InProgress when another program (or its
                // own auto-connect) got there first: what counts is the device's state after.
                objects = try self.objects()
                if !(objects.device(sensor.path)?.connected ?? false) { throw .connectFailed(sensor.name, error) }
            }
        }
        while true {
            objects = try self.objects()
            if let device = objects.device(sensor.path), device.servicesResolved,
               let characteristic = objects.measurementCharacteristic(of: sensor.path) {
                do {
                    try startNotify(characteristic)
                } catch {
                    throw .connectFailed(sensor.name, error)
                }
                return characteristic
            }
            if monotonicSeconds() >= deadline {
                if objects.device(sensor.path)?.servicesResolved ?? false { throw .noMeasurement(sensor.name) }
                throw .connectFailed(sensor.name, BusError(call: "org.bluez.Device1.Connect", code: -110,
                                                           message: "services not resolved in \(format(seconds)) s"))
            }
            _ = try signals(waiting: min(0.5, deadline - monotonicSeconds()))
        }
    }
}
