import CSDBus
import Glibc

/// An sd-bus call that failed: the call, its negative errno, and for a method call the
/// D-Bus error the other side answered with (e.g. `org.bluez.Error.Failed`).
public struct BusError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The sd-bus function, or for a method call `Interface.Member`.
    public var call: String
    /// A negative errno, as sd-bus returns.
    public var code: Int32
    /// The D-Bus error name and message, when the other side sent one.
    public var name: String?
    public var message: String?

    /// E.g. `sd_bus_open_system: No such file or directory` or
    /// `org.bluez.Device1.Connect: Page Timeout (org.bluez.Error.Failed)`.
    public var description: String {
        var text = "\(call): " + (message.flatMap { $0.isEmpty ? nil : $0 } ?? String(cString: strerror(-code)))
        if let name { text += " (\(name))" }
        return text
    }

    /// Nobody owns the name called (BlueZ's daemon is not running).
    public var isUnknownService: Bool {
        name == "org.freedesktop.DBus.Error.ServiceUnknown" || name == "org.freedesktop.DBus.Error.NameHasNoOwner"
    }

    /// The object or interface called does not exist (any more).
    public var isUnknownObject: Bool {
        name == "org.freedesktop.DBus.Error.UnknownObject" || name == "org.freedesktop.DBus.Error.UnknownMethod"
            || name == "org.freedesktop.DBus.Error.UnknownInterface"
    }
}

/// The one seam every sd-bus call passes through: a negative result becomes a `BusError`
/// naming the call, with the D-Bus error when one came back.
@discardableResult
func busCall(_ result: Int32, _ call: String, _ error: UnsafePointer<sd_bus_error>? = nil) throws(BusError) -> Int32 {
    guard result < 0 else { return result }
    var name: String? = nil
    var message: String? = nil
    if let error, sd_bus_error_is_set(error) != 0 {
        name = error.pointee.name.map { String(cString: $0) }
        message = error.pointee.message.map { String(cString: $0) }
    }
    throw BusError(call: call, code: result, name: name, message: message)
}

/// A value read out of a D-Bus message: as much of the type system as BlueZ's API needs.
public indirect enum BusValue: Sendable, Equatable {
    case string(String)
    case bool(Bool)
    case integer(Int64)
    case double(Double)
    case bytes([UInt8])
    case strings([String])
    /// `a{sv}`, `a{oa{…}}` and the like: dictionaries keyed by a string or an object path.
    case dictionary([String: BusValue])
    /// Anything else (read past, not kept).
    case other

    public var string: String? { if case .string(let s) = self { s } else { nil } }
    public var bool: Bool? { if case .bool(let b) = self { b } else { nil } }
    public var bytes: [UInt8]? { if case .bytes(let b) = self { b } else { nil } }
    public var strings: [String]? { if case .strings(let s) = self { s } else { nil } }
    public var dictionary: [String: BusValue]? { if case .dictionary(let d) = self { d } else { nil } }
}

/// A message sd-bus handed us, owned: unreferenced when dropped.
struct BusMessage: ~Copyable {
    let handle: OpaquePointer

    deinit { sd_bus_message_unref(handle) }

    var reader: MessageReader { MessageReader(message: handle) }
}

/// Reads a message's values in order. Borrows the message; valid while it lives.
struct MessageReader {
    let message: OpaquePointer

    var member: String? { sd_bus_message_get_member(message).map { String(cString: $0) } }
    var path: String? { sd_bus_message_get_path(message).map { String(cString: $0) } }

    /// The next complete value; `.other` at the end of the message or container.
    func value() throws(BusError) -> BusValue {
        var type: CChar = 0
        var contents: UnsafePointer<CChar>? = nil
        guard try busCall(sd_bus_message_peek_type(message, &type, &contents), "sd_bus_message_peek_type") > 0 else {
            return .other
        }
        switch UInt8(bitPattern: type) {
        case UInt8(ascii: "s"), UInt8(ascii: "o"), UInt8(ascii: "g"):
            var text: UnsafePointer<CChar>? = nil
            try busCall(sd_bus_message_read_basic(message, type, &text), "sd_bus_message_read_basic")
            return .string(text.map { String(cString: $0) } ?? "")
        case UInt8(ascii: "b"):
            var flag: Int32 = 0
            try busCall(sd_bus_message_read_basic(message, type, &flag), "sd_bus_message_read_basic")
            return .bool(flag != 0)
        case UInt8(ascii: "y"): return .integer(Int64(try basic(type, UInt8.self)))
        case UInt8(ascii: "n"): return .integer(Int64(try basic(type, Int16.self)))
        case UInt8(ascii: "q"): return .integer(Int64(try basic(type, UInt16.self)))
        case UInt8(ascii: "i"): return .integer(Int64(try basic(type, Int32.self)))
        case UInt8(ascii: "u"): return .integer(Int64(try basic(type, UInt32.self)))
        case UInt8(ascii: "x"): return .integer(try basic(type, Int64.self))
        case UInt8(ascii: "t"): return .integer(Int64(truncatingIfNeeded: try basic(type, UInt64.self)))
        case UInt8(ascii: "d"): return .double(try basic(type, Double.self))
        case UInt8(ascii: "v"):
            try busCall(sd_bus_message_enter_container(message, type, contents), "sd_bus_message_enter_container")
            let inner = try value()
            try busCall(sd_bus_message_exit_container(message), "sd_bus_message_exit_container")
            return inner
        case UInt8(ascii: "a"):
            let element = contents.map { String(cString: $0) } ?? ""
            return try array(of: element, contents: contents)
        default:
            try skip()
            return .other
        }
    }

    /// Reads past the next complete value.
    func skip() throws(BusError) {
        try busCall(sd_bus_message_skip(message, nil), "sd_bus_message_skip")
    }

    private func basic<T: FixedWidthInteger & BitwiseCopyable>(_ type: CChar, _: T.Type) throws(BusError) -> T {
        var value = T.zero
        let r = withUnsafeMutableBytes(of: &value) { sd_bus_message_read_basic(message, type, $0.baseAddress) }
        try busCall(r, "sd_bus_message_read_basic")
        return value
    }

    private func basic(_ type: CChar, _: Double.Type) throws(BusError) -> Double {
        var value = 0.0
        try busCall(sd_bus_message_read_basic(message, type, &value), "sd_bus_message_read_basic")
        return value
    }

    private func array(of element: String, contents: UnsafePointer<CChar>?) throws(BusError) -> BusValue {
        let a = CChar(UInt8(ascii: "a"))
        if element == "y" {
            var pointer: UnsafeRawPointer? = nil
            var size = 0
            try busCall(sd_bus_message_read_array(message, CChar(UInt8(ascii: "y")), &pointer, &size), "sd_bus_message_read_array")
            guard let pointer, size > 0 else { return .bytes([]) }
            return .bytes(Array(UnsafeRawBufferPointer(start: pointer, count: size)))
        }
        if element == "s" || element == "o" {
            try busCall(sd_bus_message_enter_container(message, a, contents), "sd_bus_message_enter_container")
            var strings: [String] = []
            while true {
                var text: UnsafePointer<CChar>? = nil
                let r = try busCall(sd_bus_message_read_basic(message, CChar(UInt8(ascii: element == "s" ? "s" : "o")), &text),
                                    "sd_bus_message_read_basic")
                if r == 0 { break }
                strings.append(text.map { String(cString: $0) } ?? "")
            }
            try busCall(sd_bus_message_exit_container(message), "sd_bus_message_exit_container")
            return .strings(strings)
        }
        if element.hasPrefix("{s") || element.hasPrefix("{o") {
            let entry = String(element.dropFirst().dropLast())
            try busCall(sd_bus_message_enter_container(message, a, contents), "sd_bus_message_enter_container")
            var dictionary: [String: BusValue] = [:]
            while try busCall(entry.withCString { sd_bus_message_enter_container(message, CChar(UInt8(ascii: "e")), $0) },
                              "sd_bus_message_enter_container") > 0 {
                let key = try value().string ?? ""
                dictionary[key] = try value()
                try busCall(sd_bus_message_exit_container(message), "sd_bus_message_exit_container")
            }
            try busCall(sd_bus_message_exit_container(message), "sd_bus_message_exit_container")
            return .dictionary(dictionary)
        }
        try skip()
        return .other
    }
}

/// Appends values to a method call being built.
struct MessageWriter {
    let message: OpaquePointer

    func string(_ text: String, type: Character = "s") throws(BusError) {
        try busCall(text.withCString { sd_bus_message_append_basic(message, CChar(type.asciiValue!), $0) },
                    "sd_bus_message_append_basic")
    }

    /// `a{sv}` holding string values only (a discovery filter).
    func stringProperties(_ properties: [(String, String)]) throws(BusError) {
        try open("a", "{sv}")
        for (key, value) in properties {
            try open("e", "sv")
            try string(key)
            try open("v", "s")
            try string(value)
            try close()
            try close()
        }
        try close()
    }

    private func open(_ type: Character, _ contents: String) throws(BusError) {
        try busCall(contents.withCString { sd_bus_message_open_container(message, CChar(type.asciiValue!), $0) },
                    "sd_bus_message_open_container")
    }

    private func close() throws(BusError) {
        try busCall(sd_bus_message_close_container(message), "sd_bus_message_close_container")
    }
}

/// A connection to the system bus (or wherever `DBUS_SYSTEM_BUS_ADDRESS` points), used from
/// one thread only: sd-bus objects are not thread-safe.
struct SystemBus: ~Copyable {
    let handle: OpaquePointer

    /// Connects. The corresponding C function is `sd_bus_open_system`.
    init() throws(BusError) {
        var bus: OpaquePointer? = nil
        try busCall(sd_bus_open_system(&bus), "sd_bus_open_system")
        guard let bus else { throw BusError(call: "sd_bus_open_system", code: -ENOMEM) }
        handle = bus
    }

    deinit { sd_bus_flush_close_unref(handle) }

    /// Calls a method and waits for its reply (sd-bus's default timeout, 25 s, or `timeout`).
    func call(_ destination: String, _ path: String, _ interface: String, _ member: String,
              timeout microseconds: UInt64 = 0,
              arguments: (MessageWriter) throws(BusError) -> Void = { _ in }) throws(BusError) -> BusMessage {
        var request: OpaquePointer? = nil
        try busCall(sd_bus_message_new_method_call(handle, &request, destination, path, interface, member),
                    "sd_bus_message_new_method_call")
        guard let request else { throw BusError(call: "sd_bus_message_new_method_call", code: -ENOMEM) }
        let owned = BusMessage(handle: request)
        try arguments(MessageWriter(message: owned.handle))
        var error = sd_bus_error()
        defer { sd_bus_error_free(&error) }
        var reply: OpaquePointer? = nil
        try busCall(sd_bus_call(handle, owned.handle, microseconds, &error, &reply), "\(interface).\(member)", &error)
        guard let reply else { throw BusError(call: "\(interface).\(member)", code: -EIO) }
        return BusMessage(handle: reply)
    }

    /// Asks for signals matching `rule`, handed to `handler` with `userdata` inside `process()`.
    func addMatch(_ rule: String, _ handler: sd_bus_message_handler_t, _ userdata: UnsafeMutableRawPointer) throws(BusError) {
        try busCall(sd_bus_add_match(handle, nil, rule, handler, userdata), "sd_bus_add_match")
    }

    /// Handles what has arrived (signals go to their handlers); false when there was nothing.
    func process() throws(BusError) -> Bool {
        try busCall(sd_bus_process(handle, nil), "sd_bus_process") > 0
    }

    /// Sleeps until something arrives or `microseconds` pass.
    func wait(microseconds: UInt64) throws(BusError) {
        let r = sd_bus_wait(handle, microseconds)
        if r == -EINTR { return }
        try busCall(r, "sd_bus_wait")
    }
}
