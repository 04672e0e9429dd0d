import ArgumentParser
import Glibc
import StrideCueCore
import StrideCueSoundFile

/// Exit codes from sysexits(3), which every command uses.
enum ExitStatus {
    static let usage: Int32 = 64
    static let dataError: Int32 = 65
    static let noInput: Int32 = 66
    static let unavailable: Int32 = 69
    static let cannotCreate: Int32 = 73
    static let ioError: Int32 = 74
    static let interrupted: Int32 = 130
}

/// An error a user can act on: one line of text and an exit code.
struct Failure: Error, CustomStringConvertible {
    var message: String
    var exitCode: Int32

    var description: String { message }

    init(_ message: String, exitCode: Int32) {
        self.message = message
        self.exitCode = exitCode
    }

    /// A bad command-line value: names the flag, exits 64.
    static func flag(_ name: String, _ message: String) -> Failure {
        Failure("\(name) \(message)", exitCode: ExitStatus.usage)
    }
}

/// Writes one line to standard error.
func printError(_ line: String) {
    writeStandardError(line + "\n")
}

/// Writes text to file descriptor 2 as is, unbuffered (C's `stderr` is shared mutable state).
func writeStandardError(_ text: String) {
    var text = text
    text.withUTF8 { bytes in
        var offset = 0
        while offset < bytes.count {
            let n = write(2, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            offset += n
        }
    }
}

/// Runs a command body, turning every error into one line on stderr and a sysexits code.
func reportingFailures(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as Failure {
        printError("stridecue: \(error.message)")
        throw ExitCode(error.exitCode)
    } catch let error as PresetError {
        printError("stridecue: \(error)")
        throw ExitCode(ExitStatus.dataError)
    } catch let error as SoundFileError {
        printError("stridecue: \(error)")
        throw ExitCode(error.exitCode)
    }
}
