import Foundation

/// A fresh folder under /tmp for one test, removed with everything in it when the test lets go
/// of it. Every test target makes its scratch folders here.
public final class TemporaryFolder: @unchecked Sendable {
    public let path: String

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// - Parameter prefix: the start of the folder's name, to tell whose folder is left behind
    ///   when a test process is killed.
    public init(_ prefix: String = "stridecue-test") throws {
        var template = Array("/tmp/\(prefix)-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard let made else { throw Failure(description: "mkdtemp failed: errno \(errno)") }
        path = String(cString: made)
    }

    /// The path of `name` inside the folder.
    public func file(_ name: String) -> String { path + "/" + name }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}
