import Glibc
import StrideCueCore

/// The one seam for this target's system calls: a negative result becomes a `Failure`
/// naming the call and errno's text (exit 71, an operating-system error).
@discardableResult
func systemCall<T: BinaryInteger>(_ name: String, _ body: () -> T) throws -> T {
    while true {
        let result = body()
        if result >= 0 { return result }
        let code = errno
        if code == EINTR { continue }
        throw Failure("\(name): \(String(cString: strerror(code)))", exitCode: 71)
    }
}
