import Testing

@testable import Replay

/// Statement splitting and transaction-control recognition, which `--rollback` relies on to keep its transaction.
@Suite struct SQLStatementsTests {
    @Test func splitsOnTopLevelSemicolonsOnly() {
        let sql = """
            INSERT INTO t VALUES ('a;b', E'it\\'s;', "odd;name"); -- a comment; still a comment
            SELECT $$ dollar ; quoted $$, $tag$ also ; $ here $tag$ /* nested /* ; */ comment */;
            SELECT $1;
            """
        let statements = SQLStatements.split(sql)
        #expect(statements.count == 3)
        #expect(statements[0] == "INSERT INTO t VALUES ('a;b', E'it\\'s;', \"odd;name\")")
        #expect(statements[1].hasPrefix("-- a comment; still a comment\nSELECT $$ dollar ; quoted $$"))
        #expect(statements[2] == "SELECT $1")
    }

    @Test func emptyStatementsAndCommentsAloneAreLeftOut() {
        #expect(SQLStatements.split(";;  -- nothing\n;").isEmpty)
        #expect(SQLStatements.split("SELECT 1").count == 1)
        #expect(SQLStatements.split("BEGIN; SELECT 1; COMMIT;") == ["BEGIN", "SELECT 1", "COMMIT"])
    }

    @Test func functionBodiesInBeginAtomicAndParenthesesStayWhole() {
        let sql = """
            CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN true THEN 1 END; SELECT 2; END;
            CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO u VALUES (1); INSERT INTO u VALUES (2));
            COMMIT
            """
        let statements = SQLStatements.split(sql)
        #expect(statements.count == 3)
        #expect(statements[0].hasSuffix("SELECT 2; END"))
        #expect(statements[1].hasSuffix("VALUES (2))"))
        #expect(statements[2] == "COMMIT")
    }

    @Test func recognisesTransactionControl() {
        #expect(TransactionCommand.classify("BEGIN") == .begin(tag: "BEGIN"))
        #expect(TransactionCommand.classify("begin isolation level serializable") == .begin(tag: "BEGIN"))
        #expect(
            TransactionCommand.classify("  /* c */ START TRANSACTION READ ONLY") == .begin(tag: "START TRANSACTION"))
        #expect(TransactionCommand.classify("COMMIT") == .commit(chain: false))
        #expect(TransactionCommand.classify("end work") == .commit(chain: false))
        #expect(TransactionCommand.classify("COMMIT AND CHAIN") == .commit(chain: true))
        #expect(TransactionCommand.classify("COMMIT AND NO CHAIN") == .commit(chain: false))
        #expect(TransactionCommand.classify("ROLLBACK") == .rollback(chain: false))
        #expect(TransactionCommand.classify("abort transaction and chain") == .rollback(chain: true))
        #expect(TransactionCommand.classify("SET TRANSACTION ISOLATION LEVEL READ COMMITTED") == .setTransaction)
        #expect(TransactionCommand.classify("PREPARE TRANSACTION 'x'") == .twoPhase)
        #expect(TransactionCommand.classify("COMMIT PREPARED 'x'") == .twoPhase)
        #expect(TransactionCommand.classify("ROLLBACK PREPARED 'x'") == .twoPhase)
    }

    @Test func savepointCommandsAndLookalikesAreNotTransactionControl() {
        #expect(TransactionCommand.classify("ROLLBACK TO SAVEPOINT s") == nil)
        #expect(TransactionCommand.classify("ROLLBACK WORK TO s") == nil)
        #expect(TransactionCommand.classify("SAVEPOINT s") == nil)
        #expect(TransactionCommand.classify("RELEASE SAVEPOINT s") == nil)
        #expect(TransactionCommand.classify("SELECT 'COMMIT'") == nil)
        #expect(TransactionCommand.classify("DO $$BEGIN PERFORM 1; END$$") == nil)
        #expect(TransactionCommand.classify("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY") == nil)
        #expect(TransactionCommand.classify("PREPARE p AS SELECT 1") == nil)
        #expect(TransactionCommand.classify("") == nil)
    }

    @Test func readOnlyRefusesWhatWouldSwitchBackToReadWrite() {
        #expect(ReplayProtocolState.readOnlyRefusal("BEGIN READ WRITE") != nil)
        #expect(ReplayProtocolState.readOnlyRefusal("SET SESSION CHARACTERISTICS AS TRANSACTION READ  WRITE") != nil)
        #expect(ReplayProtocolState.readOnlyRefusal("set default_transaction_read_only = off") != nil)
        #expect(ReplayProtocolState.readOnlyRefusal("SET \"transaction_read_only\" TO off") != nil)
        #expect(ReplayProtocolState.readOnlyRefusal("SELECT 'read write'") == nil)
        #expect(ReplayProtocolState.readOnlyRefusal("SELECT * FROM test_data") == nil)
    }
}
