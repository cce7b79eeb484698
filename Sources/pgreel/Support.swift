import ArgumentParser
import Foundation
import ProxyEngine

/// A one-line error for the user; the process exits non-zero.
struct CLIError: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) {
        self.description = description
    }
}

/// Resolves flags, the config file and the environment into a configuration, or fails with one clear line.
func loadConfiguration(_ options: ProxyOptions) throws -> ProxyConfiguration {
    do {
        return try ProxyConfiguration.resolve(
            flags: options.flags, environment: ProcessInfo.processInfo.environment,
            readFile: LocalFiles.readText)
    } catch {
        throw ValidationError("\(error)")
    }
}

/// Writes to stdout and stderr with one write per call, so lines from different sources never interleave.
final class StandardOutput: Sendable {
    func write(_ text: String) {
        Self.write(text.hasSuffix("\n") ? text : text + "\n", to: STDOUT_FILENO)
    }

    func write(lines: [String]) {
        guard !lines.isEmpty else { return }
        Self.write(lines.joined(separator: "\n") + "\n", to: STDOUT_FILENO)
    }

    func writeError(_ text: String) {
        Self.write(text + "\n", to: STDERR_FILENO)
    }

    /// Exactly `text` to stderr, no newline added: a progress line redrawn in place.
    func writeErrorRaw(_ text: String) {
        Self.write(text, to: STDERR_FILENO)
    }

    private static func write(_ text: String, to fd: Int32) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { pointer in
                Foundation.write(fd, pointer.baseAddress! + offset, pointer.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                return
            }
            offset += written
        }
    }
}

/// A session file that reaches the file size limit (`ulimit -f`) must fail that session's recording, not kill the
/// proxy and every session in it: with SIGXFSZ ignored, the write returns EFBIG and the recorder reports it.
func ignoreFileSizeLimitSignal() {
    signal(SIGXFSZ, SIG_IGN)
}

/// Big transient buffers (a recorded COPY of up to 8 MiB, its JSON on the writer thread) go straight to `mmap` and
/// back to the system once freed. glibc's default raises its mmap threshold after the first such free, after which
/// they came from the heap and stayed resident: peak RSS grew by ~9 MiB with each 1,000,000-row COPY (27 → 47 →
/// 56 MiB over three; with the fixed threshold 47, 47, 47, and back to 29 MiB in between).
func returnLargeBuffersToTheSystem() {
    #if canImport(Glibc)
    let mmapThreshold: Int32 = -3  // M_MMAP_THRESHOLD in <malloc.h>, which the Glibc module does not import
    _ = glibcMallopt(mmapThreshold, 128 * 1024)
    #endif
}

#if canImport(Glibc)
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
#endif

/// Waits for SIGINT or SIGTERM and returns its name.
func waitForTerminationSignal() async -> String {
    await withCheckedContinuation { continuation in
        let queue = DispatchQueue(label: "pgreel.signals")
        let once = SignalOnce(continuation)
        for (number, name) in [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM")] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { once.fire(name) }
            source.resume()
            once.keep(source)
        }
    }
}

/// Resumes a continuation only once, whichever signal comes first, and keeps the sources alive.
private final class SignalOnce: @unchecked Sendable {
    // Only touched on the signal queue (and during set-up before any signal can fire).
    private var continuation: CheckedContinuation<String, Never>?
    private var sources: [any DispatchSourceSignal] = []

    init(_ continuation: CheckedContinuation<String, Never>) {
        self.continuation = continuation
    }

    func keep(_ source: any DispatchSourceSignal) {
        self.sources.append(source)
    }

    func fire(_ name: String) {
        self.continuation?.resume(returning: name)
        self.continuation = nil
    }
}
