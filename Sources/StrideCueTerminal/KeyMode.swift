import Glibc
import StrideCueFiles
import Synchronization

// MARK: The terminal

/// Raw-ish key mode on standard input (no line buffering, no echo; Ctrl-C still signals),
/// restored on every way out: the normal path, SIGINT/SIGTERM/SIGHUP/SIGQUIT (which stop
/// playback through `interruptions`), Ctrl-Z (restored while stopped, re-entered on
/// continue) and crashes (restored, then the signal's default action).
///
/// The saved settings live in globals a signal handler can read without locks or allocation.
public enum Terminal {
    /// Whether the terminal was resized since the last look (SIGWINCH, once `watchResizes()`
    /// has been called); the look clears it.
    public static func wasResized() -> Bool {
        resized.exchange(false, ordering: .acquiringAndReleasing)
    }

    /// Puts standard input into key mode when it is our terminal in the foreground.
    /// - Returns: false (nothing changed) when it is not a terminal or we are in the background.
    public static func enterKeyMode() -> Bool {
        guard isatty(0) == 1 else { return false }
        // In the background of a shell, changing the terminal would stop us (SIGTTOU).
        // tcgetpgrp fails when it is a terminal but not our controlling one: no job control.
        let foreground = tcgetpgrp(0)
        if foreground >= 0 && foreground != getpgrp() { return false }
        var saved = termios()
        guard tcgetattr(0, &saved) == 0 else { return false }
        var raw = saved
        raw.c_lflag &= ~tcflag_t(ICANON | ECHO)
        withUnsafeMutableBytes(of: &raw.c_cc) { cc in
            cc[Int(VMIN)] = 1
            cc[Int(VTIME)] = 0
        }
        terminalSaved = saved
        terminalRaw = raw
        installHandlers()
        terminalActive.store(true, ordering: .releasing)
        guard tcsetattr(0, TCSANOW, &terminalRaw) == 0 else {
            terminalActive.store(false, ordering: .releasing)
            return false
        }
        return true
    }

    public static func restore() {
        guard terminalActive.exchange(false, ordering: .acquiringAndReleasing) else { return }
        // Sent to the background meanwhile (Ctrl-Z, bg), changing the terminal would stop us
        // with SIGTTOU; with it ignored, the change is made.
        let previous = signal(SIGTTOU, SIG_IGN)
        tcsetattr(0, TCSANOW, &terminalSaved)
        signal(SIGTTOU, previous)
    }

    /// Key mode again after a spell in the background (`fg` after `bg`), where the SIGCONT
    /// handler left the terminal alone.
    public static func reenterKeyMode() {
        guard terminalActive.load(ordering: .acquiring) else { return }
        tcsetattr(0, TCSANOW, &terminalRaw)
    }

    /// The width of the terminal on standard error, or 80 when it does not say.
    public static func columns() -> Int {
        var size = winsize()
        if ioctl(2, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 0 { return Int(size.ws_col) }
        return 80
    }

    /// SIGWINCH notes a resize (the status line is redrawn to the new width) and wakes the player.
    public static func watchResizes() {
        _ = install(SIGWINCH, { _ in
            resized.store(true, ordering: .releasing)
            wakeSignalWaiter()
        })
    }

    /// True when we are the terminal's foreground job, or it has no job control for us.
    public static func inForeground() -> Bool {
        let foreground = tcgetpgrp(0)
        return foreground < 0 || foreground == getpgrp()
    }

    private static func installHandlers() {
        // SIGINT and SIGTERM: catchInterrupts() already notes them. These end playback the same way.
        let note: @convention(c) (Int32) -> Void = { signal in
            noteSignal(signal)
        }
        _ = install(SIGHUP, note)
        _ = install(SIGQUIT, note)
        reinstallStop()
        _ = install(SIGCONT, { _ in
            Terminal.reinstallStop()
            // Continued in the foreground (fg): keys again. In the background (bg), leave the
            // terminal to the shell; keys are read again once brought to the foreground.
            if terminalActive.load(ordering: .acquiring) && Terminal.inForeground() {
                tcsetattr(0, TCSANOW, &terminalRaw)
            }
        })
        chainCrashHandlers()
    }

    /// A crash still gives the terminal back, then goes on to whatever handled the signal
    /// before (the Swift runtime's backtracer, a debugger's, or the default: a core dump).
    /// Installed once per process, so the handler saved as "before" is never this one.
    private static func chainCrashHandlers() {
        guard !crashHandlersInstalled else { return }
        crashHandlersInstalled = true
        for fatal in crashSignals {
            var action = sigaction()
            action.__sigaction_handler.sa_sigaction = { signal, info, _ in
                if terminalActive.load(ordering: .acquiring) { tcsetattr(0, TCSANOW, &terminalSaved) }
                // The handler before takes the signal from here on. A fault the kernel raised
                // (an instruction's) happens again when this returns and reaches it; one sent
                // (kill, abort's raise) is sent again, and arrives once this returns.
                _ = sigaction(signal, previousCrashActions + Int(signal), nil)
                if let info, info.pointee.si_code <= 0 { raise(signal) }
            }
            action.sa_flags = Int32(truncatingIfNeeded: SA_SIGINFO)
            sigemptyset(&action.sa_mask)
            _ = sigaction(fatal, &action, previousCrashActions + Int(fatal))
        }
    }

    /// Ctrl-Z: hand the terminal back as it was, then stop as Ctrl-Z would have.
    /// Installed again on SIGCONT, since the handler resets itself to stop.
    fileprivate static func reinstallStop() {
        install(SIGTSTP, { _ in
            if terminalActive.load(ordering: .acquiring) { tcsetattr(0, TCSANOW, &terminalSaved) }
            signal(SIGTSTP, SIG_DFL)
            raise(SIGTSTP)  // delivered when this handler returns
        })
    }

    @discardableResult
    private static func install(_ signal: Int32, _ handler: @convention(c) (Int32) -> Void, flags: Int32 = 0) -> Bool {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = handler
        action.sa_flags = flags | Int32(truncatingIfNeeded: SA_RESTART)
        sigemptyset(&action.sa_mask)
        return sigaction(signal, &action, nil) == 0
    }
}

// Read by signal handlers: plain globals, initialized before any handler is installed.
private let crashSignals = [SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGFPE, SIGABRT]
/// What each crash signal did before `chainCrashHandlers`, by signal number.
/// (Never freed: a handler may read it until the process ends.)
nonisolated(unsafe) private let previousCrashActions: UnsafeMutablePointer<sigaction> = {
    let actions = UnsafeMutablePointer<sigaction>.allocate(capacity: 32)
    actions.initialize(repeating: sigaction(), count: 32)
    return actions
}()
nonisolated(unsafe) private var crashHandlersInstalled = false
nonisolated(unsafe) private var terminalSaved = termios()
nonisolated(unsafe) private var terminalRaw = termios()
private let terminalActive = Atomic<Bool>(false)
/// Set by the SIGWINCH handler.
private let resized = Atomic<Bool>(false)
