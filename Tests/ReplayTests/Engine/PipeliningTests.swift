import Testing
@testable import Replay

@Suite("Replay pipelining") struct PipeliningTests {
    @Test(arguments: [
        "COPY t FROM STDIN", "copy t to stdout", "DEALLOCATE ALL", "deallocate p1", "DISCARD ALL",
        "select 1; Discard plans", "SELECT * FROM copyright",
    ])
    func theQuickLookFindsEveryBarrierWord(sql: String) {
        #expect(ReplayProtocolState.mayHoldBarrierWord(sql))
    }

    @Test(arguments: ["SELECT abalance FROM pgbench_accounts WHERE aid = $1", "BEGIN", "", "UPDATE t SET c = 1", "dea", "cop"])
    func theQuickLookLetsOrdinaryQueriesThrough(sql: String) {
        #expect(!ReplayProtocolState.mayHoldBarrierWord(sql))
    }
}
