import Foundation
import Testing

@testable import ProxyEngine

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@Suite("Session file writer")
struct SessionFileWriterTests {
    /// Runs `body` with a fresh temporary directory and writer, and cleans both up.
    private func withWriter(
        _ writer: SessionFileWriter = SessionFileWriter(),
        _ body: (SessionFileWriter, String) throws -> Void
    ) rethrows {
        let directory = SessionFixtures.makeTemporaryDirectory()
        defer {
            writer.shutdown()
            SessionFixtures.removeDirectory(directory)
        }
        try body(writer, directory)
    }

    private func makeRecorder(
        _ writer: SessionFileWriter, _ directory: String, user: String = "pseudo_user"
    ) throws(SessionRecorderError) -> SessionRecorder {
        try SessionRecorder.create(
            directory: directory, pseudoUser: user, startTime: SessionFixtures.start, writer: writer
        )
    }

    @Test func finishedFileIsAJSONArrayWithOneEventPerLine() throws {
        try self.withWriter { writer, base in
            let directory = base + "/sessions/nested"
            let recorder = try self.makeRecorder(writer, directory)
            #expect(recorder.path == directory + "/pseudo_user_2025-10-07_21-30-15.json")
            let events = SessionFixtures.everyKindOfEvent()
            for event in events {
                recorder.record(event)
            }
            recorder.close()
            #expect(recorder.flushAndWait())
            #expect(recorder.writtenEvents == events.count)

            let text = SessionFixtures.contents(of: recorder.path)
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            #expect(lines.count == events.count + 3, "[, one line per event, ], and the final newline")
            #expect(lines.first == "[")
            #expect(lines.suffix(2) == ["]", ""])
            let eventLines = lines.dropFirst().dropLast(2)
            #expect(eventLines.dropLast().allSatisfy { $0.hasSuffix("},") })
            #expect(eventLines.last?.hasSuffix("}") == true)

            // The whole file is one JSON array, and the seed's jq recipes work on it.
            let array = try #require(
                try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]]
            )
            #expect(array.count == events.count)
            let sql = array.filter { $0["type"] as? String == "query" }.compactMap {
                ($0["data"] as? [String: Any])?["sql"] as? String
            }
            #expect(sql == ["SELECT * FROM test_data;", "SELECT $1::int, $2::bytea, $3::text"])
            let results = array.filter { $0["type"] as? String == "query_result" }.compactMap {
                $0["data"] as? [String: Any]
            }
            #expect(results.filter { $0["error"] != nil && !($0["error"] is NSNull) }.count == 1)
            #expect(results.filter { ($0["row_count"] as? Int ?? 0) > 1000 }.count == 1)

            let contents = try SessionFileReader.read(path: recorder.path)
            #expect(contents.events == events)
            #expect(contents.cut == nil)
        }
    }

    @Test func emptySessionIsStillAValidArray() throws {
        try self.withWriter { writer, directory in
            let recorder = try self.makeRecorder(writer, directory)
            recorder.close()
            recorder.flushAndWait()
            let text = SessionFixtures.contents(of: recorder.path)
            #expect(text == "[\n\n]\n")
            #expect(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [Any] != nil)
        }
    }

    @Test func fileAndDirectoryArePrivate() throws {
        try self.withWriter { writer, base in
            let directory = base + "/a/b"
            let recorder = try self.makeRecorder(writer, directory)
            #expect(SessionFixtures.mode(of: recorder.path) == 0o600)
            #expect(SessionFixtures.mode(of: directory) == 0o700)
            #expect(SessionFixtures.mode(of: base + "/a") == 0o700)

            // An existing directory keeps its permissions.
            let shared = base + "/shared"
            #expect(mkdir(shared, 0o755) == 0)
            #expect(chmod(shared, 0o755) == 0)
            let other = try self.makeRecorder(writer, shared)
            #expect(SessionFixtures.mode(of: shared) == 0o755)
            #expect(SessionFixtures.mode(of: other.path) == 0o600)
        }
    }

    @Test func nameCollisionsGetASuffixAndSymlinksAreNeverFollowed() throws {
        try self.withWriter { writer, directory in
            let first = try self.makeRecorder(writer, directory)
            let second = try self.makeRecorder(writer, directory)
            let third = try self.makeRecorder(writer, directory)
            let stem = directory + "/pseudo_user_2025-10-07_21-30-15"
            #expect([first.path, second.path, third.path] == [stem + ".json", stem + "_2.json", stem + "_3.json"])

            // A symlink planted at the next name is skipped, and its target left alone.
            let target = directory + "/target.txt"
            SessionFixtures.write("keep me", to: target)
            #expect(symlink(target, stem + "_4.json") == 0)
            let fifth = try self.makeRecorder(writer, directory)
            #expect(fifth.path == stem + "_5.json")
            fifth.record(SessionFixtures.query(1))
            fifth.close()
            fifth.flushAndWait()
            #expect(SessionFixtures.contents(of: target) == "keep me")
        }
    }

    @Test(arguments: [
        ("pseudo_user", "pseudo_user"), ("bad/user name é", "bad_user_name__"), ("../etc", "_._etc"),
        (".hidden", "_hidden"), ("", "session"), ("Ünïcödé-1.2", "_n_c_d_-1.2"),
    ])
    func pseudoUserIsSanitisedForTheFileName(user: String, expected: String) {
        #expect(
            SessionRecorder.fileNameBase(pseudoUser: user, startTime: SessionFixtures.start)
                == expected + "_2025-10-07_21-30-15"
        )
    }

    @Test func fileHoldsCompleteEventsAfterEveryFlush() throws {
        try self.withWriter { writer, directory in
            let recorder = try self.makeRecorder(writer, directory)
            for number in 1...3 {
                recorder.record(SessionFixtures.query(number))
            }
            recorder.flushAndWait()
            // What a crash right now would leave behind.
            let early = try SessionFileReader.read(path: recorder.path)
            #expect(early.events.count == 3)
            #expect(early.cut?.reason.contains("no closing \"]\"") == true)
            #expect(!SessionFixtures.contents(of: recorder.path).hasSuffix(","), "the comma comes with the next event")

            recorder.record(SessionFixtures.query(4))
            recorder.flushAndWait()
            #expect(try SessionFileReader.read(path: recorder.path).events.count == 4)

            recorder.close()
            recorder.flushAndWait()
            let finished = try SessionFileReader.read(path: recorder.path)
            #expect(finished.events == (1...4).map { SessionFixtures.query($0) })
            #expect(finished.cut == nil)
        }
    }

    @Test func hundredThousandEventsFromFourThreadsArriveInOrder() throws {
        try self.withWriter { writer, directory in
            let perThread = 25_000
            let recorders = try (0..<4).map { try self.makeRecorder(writer, directory, user: "user\($0)") }
            DispatchQueue.concurrentPerform(iterations: 4) { thread in
                for number in 1...perThread {
                    recorders[thread].record(SessionFixtures.query(number, sql: "SELECT \(thread), \(number)"))
                }
                recorders[thread].close()
            }
            for (thread, recorder) in recorders.enumerated() {
                #expect(recorder.flushAndWait())
                #expect(recorder.writtenEvents == perThread)
                #expect(recorder.discardedEvents == 0)
                let contents = try SessionFileReader.read(path: recorder.path)
                #expect(contents.cut == nil)
                #expect(contents.events.count == perThread)
                let inOrder = contents.events.enumerated().allSatisfy { index, event in
                    let expected = RecordedQuery(queryNumber: index + 1, sql: "SELECT \(thread), \(index + 1)")
                    return event.payload == .query(expected)
                }
                #expect(inOrder, "session \(thread) kept its order")
            }
        }
    }

    @Test func writerFlushCoversEverySession() throws {
        let slow = SessionFileWriter(limits: .default, writeDelay: .milliseconds(5))
        try self.withWriter(slow) { writer, directory in
            let recorders = try (0..<3).map { try self.makeRecorder(writer, directory, user: "user\($0)") }
            for number in 1...50 {
                for recorder in recorders {
                    recorder.record(SessionFixtures.query(number))
                }
            }
            #expect(writer.flushAndWait(timeout: .seconds(30)))
            for recorder in recorders {
                #expect(recorder.pendingEvents == 0)
                #expect(try SessionFileReader.read(path: recorder.path).events.count == 50)
            }
        }
    }

    @Test func threadsSharingOneSessionKeepTheirOwnOrder() throws {
        try self.withWriter { writer, directory in
            let recorder = try self.makeRecorder(writer, directory)
            let perThread = 5_000
            DispatchQueue.concurrentPerform(iterations: 4) { thread in
                for number in 1...perThread {
                    recorder.record(SessionFixtures.query(number, sql: "\(thread)"))
                }
            }
            recorder.close()
            recorder.flushAndWait()
            let events = try SessionFileReader.read(path: recorder.path).events
            #expect(events.count == 4 * perThread)
            for thread in 0..<4 {
                let numbers = events.compactMap { event -> Int? in
                    guard case .query(let query) = event.payload, query.sql == "\(thread)" else { return nil }
                    return query.queryNumber
                }
                #expect(numbers == Array(1...perThread))
            }
        }
    }

    @Test func backlogRaisesTheFlagAndDrainingCallsTheHandler() throws {
        let limits = SessionFileWriter.Limits(
            highWatermarkBytes: 1 << 30, highWatermarkEvents: 50, lowWatermarkBytes: 1 << 30, lowWatermarkEvents: 10
        )
        let slow = SessionFileWriter(limits: limits, writeDelay: .milliseconds(20))
        try self.withWriter(slow) { writer, directory in
            let recorder = try self.makeRecorder(writer, directory)
            let quiet = try self.makeRecorder(writer, directory, user: "quiet")
            let drains = LockedBox<[Bool]>([])
            recorder.setDrainHandler { drains.update { $0.append(writer.isWriterThread) } }
            let quietDrains = LockedBox(0)
            quiet.setDrainHandler { quietDrains.update { $0 += 1 } }

            var sawBacklog = false
            for number in 1...200 {
                recorder.record(SessionFixtures.query(number))
                sawBacklog = sawBacklog || recorder.isBacklogged
            }
            quiet.record(SessionFixtures.query(1))
            #expect(sawBacklog, "200 events cannot be written in time by a disk that takes 20 ms a write")
            #expect(recorder.isBacklogged)

            #expect(recorder.flushAndWait())
            #expect(quiet.flushAndWait())
            #expect(!recorder.isBacklogged)
            #expect(drains.value == [true], "once, on the writer thread")
            #expect(quietDrains.value == 0, "never backlogged, never drained")
            #expect(try SessionFileReader.read(path: recorder.path).events.count == 200, "nothing dropped")
        }
    }

    @Test func writeFailureIsReportedAndLaterEventsAreCounted() throws {
        let full = SessionFileWriter(limits: .default, writeDelay: .zero, injectedWriteError: ENOSPC)
        try self.withWriter(full) { writer, directory in
            let recorder = try self.makeRecorder(writer, directory)
            let failures = LockedBox<[String]>([])
            recorder.setFailureHandler { message in failures.update { $0.append(message) } }
            for number in 1...3 {
                recorder.record(SessionFixtures.query(number))
            }
            #expect(recorder.flushAndWait())
            let failure = try #require(recorder.failure)
            #expect(failure == "cannot write session file \(recorder.path): No space left on device")
            // The handler runs on the writer thread just after the flush is released: give it a moment.
            let deadline = Date().addingTimeInterval(5)
            while failures.value.isEmpty, Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
            #expect(failures.value == [failure], "the handler runs once")
            #expect(recorder.discardedEvents == 3)

            recorder.record(SessionFixtures.query(4))
            recorder.record(SessionFixtures.query(5))
            #expect(recorder.discardedEvents == 5)
            #expect(recorder.flushAndWait(), "nothing to wait for after a failure")
            #expect(failures.value.count == 1)

            let late = LockedBox<[String]>([])
            recorder.setFailureHandler { message in late.update { $0.append(message) } }
            #expect(late.value == [failure], "a handler set after the failure hears of it at once")

            let contents = try SessionFileReader.read(path: recorder.path)
            #expect(contents.events.isEmpty)
            #expect(contents.cut != nil)
        }
    }

    @Test func failureEndsABacklogSoTheClientIsNotPausedForever() throws {
        let limits = SessionFileWriter.Limits(highWatermarkEvents: 5, lowWatermarkEvents: 1)
        let failing = SessionFileWriter(limits: limits, writeDelay: .milliseconds(20), injectedWriteError: EIO)
        try self.withWriter(failing) { writer, directory in
            let recorder = try self.makeRecorder(writer, directory)
            let drained = LockedBox(0)
            recorder.setDrainHandler { drained.update { $0 += 1 } }
            for number in 1...50 {
                recorder.record(SessionFixtures.query(number))
            }
            #expect(recorder.isBacklogged)
            recorder.flushAndWait()
            #expect(!recorder.isBacklogged)
            // The handler runs on the writer thread right after the recorder went idle, outside its lock.
            let deadline = ContinuousClock.now + .seconds(10)
            while drained.value == 0, ContinuousClock.now < deadline {
                Thread.sleep(forTimeInterval: 0.001)
            }
            #expect(drained.value == 1)
            #expect(recorder.failure?.contains("Input/output error") == true)
            #expect(recorder.discardedEvents == 50)
        }
    }

    /// Handlers run on the writer thread; calling back into the recorder or the writer from them must not hang.
    @Test func handlersMayCallBackIntoTheRecorder() throws {
        let full = SessionFileWriter(limits: .default, writeDelay: .zero, injectedWriteError: ENOSPC)
        try self.withWriter(full) { writer, directory in
            let recorder = try self.makeRecorder(writer, directory)
            let waited = LockedBox<Bool?>(nil)
            recorder.setFailureHandler { _ in
                recorder.record(SessionFixtures.query(99))
                recorder.close()
                waited.update { $0 = recorder.flushAndWait() }
                writer.shutdown()
            }
            recorder.record(SessionFixtures.query(1))
            #expect(recorder.flushAndWait(timeout: .seconds(30)))
            // flushAndWait returns once the recording failed; the handler runs on the writer thread right after,
            // outside the recorder's lock, so it may not have finished yet.
            let deadline = ContinuousClock.now + .seconds(10)
            while waited.value == nil, ContinuousClock.now < deadline {
                Thread.sleep(forTimeInterval: 0.001)
            }
            #expect(waited.value == true, "nothing is left to write after a failure")
            #expect(recorder.discardedEvents == 2)
        }
    }

    @Test func shutdownFromSeveralThreadsAtOnceReturnsEverywhere() throws {
        let directory = SessionFixtures.makeTemporaryDirectory()
        defer { SessionFixtures.removeDirectory(directory) }
        let writer = SessionFileWriter()
        let recorders = try (0..<8).map { try self.makeRecorder(writer, directory, user: "user\($0)") }
        for recorder in recorders {
            for number in 1...500 {
                recorder.record(SessionFixtures.query(number))
            }
        }
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            writer.shutdown()
        }
        for recorder in recorders {
            let contents = try SessionFileReader.read(path: recorder.path)
            #expect(contents.events.count == 500)
            #expect(contents.cut == nil)
        }
    }

    @Test func flushAndWaitCanTimeOut() throws {
        let slow = SessionFileWriter(limits: .default, writeDelay: .milliseconds(300))
        try self.withWriter(slow) { writer, directory in
            let recorder = try self.makeRecorder(writer, directory)
            recorder.record(SessionFixtures.query(1))
            #expect(!recorder.flushAndWait(timeout: .milliseconds(20)))
            #expect(recorder.pendingEvents == 1)
            #expect(recorder.flushAndWait(timeout: .seconds(30)))
            #expect(recorder.pendingEvents == 0)
        }
    }

    @Test func closeIsIdempotentAndLaterEventsAreDiscarded() throws {
        try self.withWriter { writer, directory in
            let recorder = try self.makeRecorder(writer, directory)
            recorder.record(SessionFixtures.query(1))
            recorder.close()
            recorder.close()
            recorder.record(SessionFixtures.query(2))
            recorder.flushAndWait()
            #expect(recorder.discardedEvents == 1)
            #expect(recorder.failure == nil)
            let contents = try SessionFileReader.read(path: recorder.path)
            #expect(contents.events == [SessionFixtures.query(1)])
            #expect(contents.cut == nil)
        }
    }

    @Test func shutdownClosesOpenFilesAndRefusesNewOnes() throws {
        let directory = SessionFixtures.makeTemporaryDirectory()
        defer { SessionFixtures.removeDirectory(directory) }
        let writer = SessionFileWriter()
        let recorder = try self.makeRecorder(writer, directory)
        for number in 1...100 {
            recorder.record(SessionFixtures.query(number))
        }
        writer.shutdown()
        let contents = try SessionFileReader.read(path: recorder.path)
        #expect(contents.events.count == 100)
        #expect(contents.cut == nil)
        #expect(throws: SessionRecorderError.writerShutDown) {
            try self.makeRecorder(writer, directory, user: "late")
        }
        recorder.record(SessionFixtures.query(101))
        #expect(recorder.discardedEvents == 1)
        writer.shutdown()
    }

    @Test func aForgottenRecorderStillFinishesItsFile() throws {
        try self.withWriter { writer, directory in
            var path = ""
            do {
                let recorder = try self.makeRecorder(writer, directory)
                path = recorder.path
                recorder.record(SessionFixtures.query(1))
                recorder.flushAndWait()
            }
            // The writer thread may hold the last reference for a moment after the write.
            let deadline = ContinuousClock.now + .seconds(10)
            while !SessionFixtures.contents(of: path).hasSuffix("]\n"), ContinuousClock.now < deadline {
                usleep(1000)
            }
            let contents = try SessionFileReader.read(path: path)
            #expect(contents.events == [SessionFixtures.query(1)])
            #expect(contents.cut == nil)
        }
    }

    @Test func directoryThatIsAFileGivesAClearError() {
        self.withWriter { writer, base in
            let file = base + "/plain.txt"
            SessionFixtures.write("x", to: file)
            #expect(throws: SessionRecorderError.notADirectory(path: file)) {
                try self.makeRecorder(writer, file)
            }
            #expect(
                SessionRecorderError.notADirectory(path: file).description
                    == "cannot record sessions in \(file): it exists but is not a directory"
            )
            let below = file + "/sessions"
            #expect(throws: SessionRecorderError.cannotCreateDirectory(path: below, reason: "Not a directory")) {
                try self.makeRecorder(writer, below)
            }
        }
    }

    /// Root ignores permissions, so this runs only for other users.
    @Test(.enabled(if: geteuid() != 0)) func readOnlyDirectoryGivesAClearError() {
        self.withWriter { writer, base in
            let directory = base + "/readonly"
            #expect(mkdir(directory, 0o500) == 0)
            defer { _ = chmod(directory, 0o700) }
            do throws(SessionRecorderError) {
                _ = try self.makeRecorder(writer, directory)
                Issue.record("a file was created in a read-only directory")
            } catch {
                let path = directory + "/pseudo_user_2025-10-07_21-30-15.json"
                #expect(error == .cannotCreateFile(path: path, reason: "Permission denied"))
                #expect(error.description == "cannot create session file \(path): Permission denied")
            }
        }
    }

    /// The kernel refuses new directories in /sys even to root: the creation error a root-run test can see.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/sys/kernel")))
    func directoryTheSystemRefusesGivesAClearError() {
        self.withWriter { writer, _ in
            let directory = "/sys/pgreel-test-sessions"
            do throws(SessionRecorderError) {
                _ = try self.makeRecorder(writer, directory)
                Issue.record("a session directory was created in /sys")
            } catch {
                guard case .cannotCreateDirectory(let path, let reason) = error else {
                    Issue.record("unexpected error \(error)")
                    return
                }
                #expect(path == directory)
                #expect(!reason.isEmpty)
                #expect(error.description.hasPrefix("cannot create the session directory /sys/pgreel-test-sessions: "))
            }
        }
    }
}
