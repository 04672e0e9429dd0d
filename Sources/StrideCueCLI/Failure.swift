import ArgumentParser
import StrideCueCore
import StrideCueTerminal
import StrideCueLive

/// Runs a command body, turning every error into one line on stderr and its sysexits status:
/// the one mapper, over `UserFacingError` (see `explain`).
func reportingFailures(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let exit as ExitCode {
        throw exit
    } catch let stop as Stopped {
        throw ExitCode(128 + stop.signal)
    } catch {
        let (message, status) = explain(error)
        printError("stridecue: \(message)")
        throw ExitCode(status)
    }
}
