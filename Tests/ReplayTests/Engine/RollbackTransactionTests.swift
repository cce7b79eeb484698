import Testing

@testable import Replay

/// What `--rollback` sends for a session's transaction control, walked step by step.
@Suite struct RollbackTransactionTests {
    @Test func statementsOutsideARecordedTransactionGetTheirOwnSavepoint() {
        var rollback = RollbackTransaction()
        #expect(rollback.plan(nil, aborted: false) == .run(savepoint: true))
    }

    @Test func aRecordedTransactionBecomesASavepoint() {
        var rollback = RollbackTransaction()
        #expect(
            rollback.plan(.begin(tag: "BEGIN"), aborted: false)
                == .emulate(commands: ["SAVEPOINT pgreel_transaction"], tag: "BEGIN"))
        #expect(rollback.inRecordedTransaction)
        #expect(rollback.plan(nil, aborted: false) == .run(savepoint: false))
        #expect(
            rollback.plan(.commit(chain: false), aborted: false)
                == .emulate(commands: ["RELEASE SAVEPOINT pgreel_transaction"], tag: "COMMIT"))
        #expect(!rollback.inRecordedTransaction)
        #expect(rollback.plan(nil, aborted: false) == .run(savepoint: true))
    }

    @Test func aRolledBackOrFailedTransactionReturnsToItsSavepoint() {
        var rollback = RollbackTransaction()
        _ = rollback.plan(.begin(tag: "START TRANSACTION"), aborted: false)
        let undo = ["ROLLBACK TO SAVEPOINT pgreel_transaction", "RELEASE SAVEPOINT pgreel_transaction"]
        #expect(rollback.plan(.rollback(chain: false), aborted: true) == .emulate(commands: undo, tag: "ROLLBACK"))
        _ = rollback.plan(.begin(tag: "BEGIN"), aborted: false)
        // COMMIT of a failed transaction rolls back and says so, as PostgreSQL does.
        #expect(rollback.plan(.commit(chain: false), aborted: true) == .emulate(commands: undo, tag: "ROLLBACK"))
        #expect(!rollback.inRecordedTransaction)
    }

    @Test func chainedEndsStartTheNextTransactionAtOnce() {
        var rollback = RollbackTransaction()
        _ = rollback.plan(.begin(tag: "BEGIN"), aborted: false)
        #expect(
            rollback.plan(.commit(chain: true), aborted: false)
                == .emulate(
                    commands: ["RELEASE SAVEPOINT pgreel_transaction", "SAVEPOINT pgreel_transaction"], tag: "COMMIT"))
        #expect(rollback.inRecordedTransaction)
    }

    @Test func whatPostgreSQLOnlyWarnsAboutChangesNothing() {
        var rollback = RollbackTransaction()
        #expect(rollback.plan(.commit(chain: false), aborted: false) == .emulate(commands: [], tag: "COMMIT"))
        #expect(rollback.plan(.rollback(chain: false), aborted: false) == .emulate(commands: [], tag: "ROLLBACK"))
        _ = rollback.plan(.begin(tag: "BEGIN"), aborted: false)
        #expect(rollback.plan(.begin(tag: "BEGIN"), aborted: false) == .emulate(commands: [], tag: "BEGIN"))
        #expect(rollback.plan(.setTransaction, aborted: false) == .emulate(commands: [], tag: "SET"))
    }

    @Test func twoPhaseCommitIsRefused() {
        var rollback = RollbackTransaction()
        guard case .refuse(let reason) = rollback.plan(.twoPhase, aborted: false) else {
            Issue.record("two-phase commit must be refused")
            return
        }
        #expect(reason.contains("PREPARE TRANSACTION"))
    }
}
