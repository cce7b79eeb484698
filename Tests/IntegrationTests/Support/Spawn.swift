import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Starts child processes with `posix_spawn`, for `ProcessRunner` and the exit-time clean-up.
///
/// Foundation's `Process` is not used because on Linux it learns that a child exited only when a socket it passes
/// to the child is closed by every process holding it, and daemons (the postmaster that `pg_ctl start` leaves
/// running) keep it open: the `pg_ctl` call would never be seen to finish. Here every child gets exactly stdin,
/// stdout and stderr (all other descriptors are closed in the child), and a thread blocked in `waitpid` reports
/// its exit.
enum Spawn {
    /// The three descriptors the child gets as 0, 1 and 2.
    struct StandardDescriptors {
        var input: Int32
        var output: Int32
        var error: Int32
    }

    /// Starts `path` (an absolute path) and returns its pid. Signal handling is reset to the defaults in the child
    /// (the test process ignores SIGPIPE; a child must not inherit that).
    static func start(
        path: String,
        arguments: [String],
        environment: [String: String],
        descriptors: StandardDescriptors,
        workingDirectory: String?
    ) throws -> pid_t {
        var executable = path
        var argv = [path] + arguments
        if let workingDirectory, Self.addChdir == nil {
            // Without posix_spawn_file_actions_addchdir_np (glibc < 2.29), let a shell change directory first.
            executable = "/bin/sh"
            argv = ["/bin/sh", "-c", "cd -- \"$0\" && exec \"$@\"", workingDirectory, path] + arguments
        }

        var fileActions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&fileActions)
        defer { posix_spawn_file_actions_destroy(&fileActions) }
        posix_spawn_file_actions_adddup2(&fileActions, descriptors.input, 0)
        posix_spawn_file_actions_adddup2(&fileActions, descriptors.output, 1)
        posix_spawn_file_actions_adddup2(&fileActions, descriptors.error, 2)
        if let closeFrom = Self.addCloseFrom {
            _ = closeFrom(&fileActions, 3)
        }
        if let workingDirectory, let chdir = Self.addChdir {
            _ = workingDirectory.withCString { chdir(&fileActions, $0) }
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signalNumber in [SIGPIPE, SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGCHLD, SIGUSR1, SIGUSR2, SIGALRM] {
            sigaddset(&defaults, signalNumber)
        }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let cArguments: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        let cEnvironment: [UnsafeMutablePointer<CChar>?] =
            environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            cArguments.forEach { free($0) }
            cEnvironment.forEach { free($0) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &fileActions, &attributes, cArguments, cEnvironment)
        guard result == 0 else {
            throw ProcessRunnerError.launchFailed(
                command: RunningProcess.describe(path, arguments),
                reason: String(cString: strerror(result))
            )
        }
        return pid
    }

    /// A pipe whose ends are close-on-exec, so they reach only the child they are dup2'ed into.
    /// (pipe2 is hidden from Swift; the short window before fcntl matters not: our children close every descriptor
    /// above 2 anyway.)
    static func pipe() throws -> (read: Int32, write: Int32) {
        var descriptors: [Int32] = [-1, -1]
        guard Glibc.pipe(&descriptors) == 0 else {
            throw ProcessRunnerError.launchFailed(command: "pipe", reason: String(cString: strerror(errno)))
        }
        _ = fcntl(descriptors[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(descriptors[1], F_SETFD, FD_CLOEXEC)
        return (descriptors[0], descriptors[1])
    }

    /// /dev/null opened close-on-exec.
    static func openDevNull(_ flags: Int32) throws -> Int32 {
        let descriptor = open("/dev/null", flags | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw ProcessRunnerError.launchFailed(command: "open /dev/null", reason: String(cString: strerror(errno)))
        }
        return descriptor
    }

    /// Blocks until `pid` exits; returns (exit status, signal). Exit status is 128 + signal for a signalled child.
    static func waitForExit(_ pid: pid_t) -> (status: Int32, signal: Int32?) {
        var raw: Int32 = 0
        while waitpid(pid, &raw, 0) < 0 {
            if errno != EINTR {
                return (status: -1, signal: nil)
            }
        }
        let terminatingSignal = raw & 0x7f
        if terminatingSignal == 0 {
            return (status: (raw >> 8) & 0xff, signal: nil)
        }
        return (status: 128 + terminatingSignal, signal: terminatingSignal)
    }

    // glibc has these (2.34 and 2.29 on), but Swift's Glibc module does not show them: look them up at run time.
    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    private typealias AddChdir = @convention(c) (
        UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>
    ) -> Int32

    private static let addCloseFrom: AddCloseFrom? = Self.lookUp("posix_spawn_file_actions_addclosefrom_np")
    private static let addChdir: AddChdir? = Self.lookUp("posix_spawn_file_actions_addchdir_np")

    private static func lookUp<Function>(_ name: String) -> Function? {
        guard let handle = dlopen(nil, RTLD_NOW), let symbol = dlsym(handle, name) else {
            return nil
        }
        return unsafeBitCast(symbol, to: Function.self)
    }
}
