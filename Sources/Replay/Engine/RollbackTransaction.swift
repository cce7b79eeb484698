/// `--rollback`: the whole replay runs inside one transaction that is rolled back at the end, so the target is left
/// as it was. Pure: it decides what to send for each recorded statement; the executor sends it.
///
/// A recorded transaction (BEGIN ... COMMIT) becomes a savepoint inside the replay's transaction, and its COMMIT a
/// RELEASE, its ROLLBACK a ROLLBACK TO. Inside such a recorded transaction statements run as they are, so an error
/// aborts it exactly as it did when recorded (later statements fail with 25P02 until its ROLLBACK, which then
/// restores the replay's transaction). Outside one, each statement gets its own savepoint: an error undoes only
/// that statement, as autocommit did, instead of aborting everything after it.
struct RollbackTransaction: Sendable, Equatable {
    /// The savepoint standing for a recorded transaction.
    static let transactionSavepoint = "pgreel_transaction"
    /// The savepoint around a statement run outside a recorded transaction.
    static let statementSavepoint = "pgreel_statement"

    /// What to do with one recorded statement.
    enum Plan: Sendable, Equatable {
        /// Send the statement; inside `SAVEPOINT pgreel_statement` when `savepoint`.
        case run(savepoint: Bool)
        /// Do not send the statement: run `commands` (maybe none) and answer with the command tag the server
        /// gave when it was recorded.
        case emulate(commands: [String], tag: String)
        /// Cannot be replayed inside the replay's transaction.
        case refuse(String)
    }

    /// True while a recorded transaction is open (its BEGIN became `SAVEPOINT pgreel_transaction`).
    private(set) var inRecordedTransaction = false

    /// The plan for a statement that is `command` (nil: not transaction control); `aborted` tells whether the
    /// server reports the transaction as failed ('E'), which decides what a recorded COMMIT becomes.
    mutating func plan(_ command: TransactionCommand?, aborted: Bool) -> Plan {
        let savepoint = Self.transactionSavepoint
        switch command {
        case nil:
            return .run(savepoint: !self.inRecordedTransaction)
        case .begin(let tag):
            // BEGIN inside a transaction only warns, and changes nothing.
            guard !self.inRecordedTransaction else { return .emulate(commands: [], tag: tag) }
            self.inRecordedTransaction = true
            return .emulate(commands: ["SAVEPOINT \(savepoint)"], tag: tag)
        case .commit(let chain):
            guard self.inRecordedTransaction else { return .emulate(commands: [], tag: "COMMIT") }
            // COMMIT of a failed transaction rolls it back and answers ROLLBACK.
            var commands =
                aborted
                ? ["ROLLBACK TO SAVEPOINT \(savepoint)", "RELEASE SAVEPOINT \(savepoint)"]
                : ["RELEASE SAVEPOINT \(savepoint)"]
            if chain {
                commands.append("SAVEPOINT \(savepoint)")
            } else {
                self.inRecordedTransaction = false
            }
            return .emulate(commands: commands, tag: aborted ? "ROLLBACK" : "COMMIT")
        case .rollback(let chain):
            guard self.inRecordedTransaction else { return .emulate(commands: [], tag: "ROLLBACK") }
            var commands = ["ROLLBACK TO SAVEPOINT \(savepoint)", "RELEASE SAVEPOINT \(savepoint)"]
            if chain {
                commands.append("SAVEPOINT \(savepoint)")
            } else {
                self.inRecordedTransaction = false
            }
            return .emulate(commands: commands, tag: "ROLLBACK")
        case .setTransaction:
            // A savepoint cannot take transaction characteristics; outside a transaction PostgreSQL only warns.
            return .emulate(commands: [], tag: "SET")
        case .twoPhase:
            return .refuse(
                "two-phase commit (PREPARE TRANSACTION, COMMIT/ROLLBACK PREPARED) cannot run inside --rollback's "
                    + "transaction")
        }
    }
}
