import Glibc
import StrideCueCore
import StrideCueFiles
import Synchronization

/// A running sensor read for a whole session, on a thread of its own that owns the D-Bus
/// connection (never the playback thread): it connects, asks for RSC measurements, decodes
/// each notification and publishes it to `readings`; when the link drops or the sensor falls
/// silent it says so there and connects again, for as long as the session lasts.
///
/// `start` returns once the first connection is made, or throws the one-line reason it cannot
/// be (no system bus, no BlueZ, no adapter, no such sensor), before anything plays.
public final class SensorLink: @unchecked Sendable {
    /// What the session reads: the sensor thread is its only writer.
    public let readings = SensorReadings()
    /// The sensor as found (its name and address).
    public private(set) var sensor: SensorDevice?

    /// How long `play --sensor` looks for a sensor BlueZ does not know yet.
    public static let defaultScanSeconds = 5.0
    /// Silent this long (no notification while connected), the link is made again.
    public static let reconnectAfterSilentSeconds = 10.0
    /// A failed reconnection is tried again after this long.
    public static let retrySeconds = 1.0

    private let choice: String
    private let scanSeconds: Double
    private let stopping = Atomic<Bool>(false)
    private let started = Mutex<Result<SensorDevice, SensorError>?>(nil)
    private var thread: pthread_t? = nil
    /// The sensor thread's own state (touched by it alone once it runs).
    private var reading = SensorReading()

    private init(choice: String, scanSeconds: Double) {
        self.choice = choice
        self.scanSeconds = scanSeconds
    }

    /// Finds the sensor `choice` names (a name, an address, or `auto`), scanning for up to
    /// `scanSeconds`, connects and starts reading it on its own thread.
    /// - Parameter stopIf: called while waiting (every 10 ms); what it throws (a Ctrl-C) ends the
    ///   wait at once, leaving the sensor thread to finish its BlueZ call and end by itself.
    public static func start(_ choice: String, scanSeconds: Double, stopIf: () throws -> Void = {}) throws -> SensorLink {
        let link = SensorLink(choice: choice, scanSeconds: scanSeconds)
        var handle = pthread_t()
        let context = Unmanaged.passRetained(link).toOpaque()
        let result = pthread_create(&handle, nil, { raw in
            let link = Unmanaged<SensorLink>.fromOpaque(raw!).takeRetainedValue()
            link.threadMain()
            return nil
        }, context)
        if result != 0 {
            Unmanaged<SensorLink>.fromOpaque(context).release()
            throw SensorError.bus(BusError(call: "pthread_create", code: -result))
        }
        link.thread = handle
        // Waits for the first connection (or the reason there is none); a few seconds at most.
        while true {
            if let outcome = link.started.withLock({ $0 }) {
                switch outcome {
                case .success(let device):
                    link.sensor = device
                    return link
                case .failure(let error):
                    link.stop()
                    throw error
                }
            }
            do {
                try stopIf()
            } catch {
                link.stopping.store(true, ordering: .releasing)
                if let thread = link.thread { pthread_detach(thread) }
                link.thread = nil
                throw error
            }
            usleep(10_000)
        }
    }

    /// Ends the sensor thread and waits for it. Idempotent.
    public func stop() {
        stopping.store(true, ordering: .releasing)
        if let thread {
            pthread_join(thread, nil)
            self.thread = nil
        }
    }

    deinit { stop() }

    // MARK: The sensor thread

    private func threadMain() {
        let client: BlueZClient
        let device: SensorDevice
        var characteristic: String
        do {
            client = try BlueZClient()
            device = try client.find(choice, scanning: scanSeconds)
            characteristic = try client.subscribe(device)
        } catch {
            started.withLock { $0 = .failure(error) }
            return
        }
        reading.state = .connecting
        readings.publish(reading)
        started.withLock { $0 = .success(device) }
        var connected = true
        var connectedAt = monotonicSeconds()
        var retryAt = 0.0
        while !stopping.load(ordering: .acquiring) {
            let now = monotonicSeconds()
            if connected {
                let last = max(reading.measuredAt, connectedAt)
                if now - last > Self.reconnectAfterSilentSeconds {
                    // Connected but silent this long: make the link again, as a runner would
                    // by switching the pod off and on.
                    client.disconnect(device.path)
                    connected = false
                    retryAt = now
                    set(.reconnecting)
                } else if now - last > SensorReadings.silentSeconds, reading.state == .reading || reading.state == .connecting {
                    set(.silent)
                }
            }
            if !connected && now >= retryAt {
                do {
                    characteristic = try client.subscribe(device, within: 5)
                    connected = true
                    connectedAt = monotonicSeconds()
                    reading.reconnects += 1
                    set(.connecting)
                } catch {
                    retryAt = monotonicSeconds() + Self.retrySeconds
                }
            }
            let arrived: [BlueZSignal]
            do {
                arrived = try client.signals(waiting: 0.2)
            } catch {
                arrived = []
                usleep(200_000)
            }
            for signal in arrived {
                switch signal {
                case .propertiesChanged(let path, "org.bluez.GattCharacteristic1", let changed) where path == characteristic:
                    if let value = changed["Value"]?.bytes { measured(value) }
                case .propertiesChanged(let path, "org.bluez.Device1", let changed) where path == device.path:
                    if changed["Connected"]?.bool == false, connected {
                        connected = false
                        retryAt = monotonicSeconds() + Self.retrySeconds
                        set(.reconnecting)
                    }
                case .interfacesRemoved(let path, let interfaces) where path == device.path && interfaces.contains("org.bluez.Device1"):
                    connected = false
                    retryAt = monotonicSeconds() + Self.retrySeconds
                    set(.reconnecting)
                default:
                    break
                }
            }
        }
        if connected { client.disconnect(device.path) }
    }

    private func measured(_ value: [UInt8]) {
        do {
            let m = try RSCMeasurement(bytes: value)
            reading.cadence = m.cadence
            reading.speed = m.speed
            reading.strideLength = m.strideLength
            reading.totalDistance = m.totalDistance
            reading.running = m.running
            reading.measurements += 1
            reading.measuredAt = monotonicSeconds()
            reading.state = .reading
        } catch {
            reading.malformed += 1
        }
        readings.publish(reading)
    }

    private func set(_ state: SensorState) {
        reading.state = state
        readings.publish(reading)
    }
}
