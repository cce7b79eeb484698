import Foundation
import ProxyEngine
import Testing

@testable import Replay

/// Learning generated ids from answers, putting them back into later queries, comparing modulo them.
@Suite struct IDMapTests {
    static func result(_ columns: [String], _ rows: [[String?]], tag: String = "INSERT 0 1") -> RecordedResult {
        RecordedResult(
            queryNumber: 1,
            result: RecordedResultSet(columns: columns, rows: rows, rowCount: rows.count, commandTag: tag))
    }

    static let insert = RecordedQuery(queryNumber: 1, sql: "INSERT INTO orders (customer) VALUES ('x') RETURNING id")

    @Test func learnsFromReturningAndNotFromOtherAnswers() {
        var map = IDMap()
        let learned = map.learn(
            from: Self.insert, recorded: Self.result(["id"], [["5"]]), replayed: Self.result(["id"], [["105"]]))
        #expect(learned == [IDMap.Substitution(place: "column id", recorded: "5", replayed: "105")])
        #expect(map.values == ["5": "105"])
        // A plain SELECT teaches nothing, even where values differ.
        let select = RecordedQuery(queryNumber: 2, sql: "SELECT id FROM orders")
        #expect(map.learn(from: select, recorded: Self.result(["id"], [["6"]]), replayed: Self.result(["id"], [["7"]])).isEmpty)
        // Equal values, text, or a first mapping already known: nothing new.
        #expect(map.learn(from: Self.insert, recorded: Self.result(["id"], [["5"]]), replayed: Self.result(["id"], [["999"]])).isEmpty)
        #expect(map.learn(from: Self.insert, recorded: Self.result(["name"], [["a"]]), replayed: Self.result(["name"], [["b"]])).isEmpty)
        let uuidOld = "6f1c2a4e-0b39-4c4a-9a55-2d5d1f0e8b11"
        let uuidNew = "0d5e3b8a-7f21-4c3e-8b9a-1a2b3c4d5e6f"
        let currval = RecordedQuery(queryNumber: 3, sql: "SELECT currval('s'), gen_random_uuid() AS key")
        _ = map.learn(
            from: currval, recorded: Self.result(["currval", "key"], [["8", uuidOld]]),
            replayed: Self.result(["currval", "key"], [["108", uuidNew]]))
        #expect(map.values["8"] == "108" && map.values[uuidOld] == uuidNew)
    }

    @Test func substitutesParametersAndWholeLiteralsInValuePositions() {
        var map = IDMap()
        map.learn(from: Self.insert, recorded: Self.result(["id"], [["5"]]), replayed: Self.result(["id"], [["105"]]))
        let sql = """
            INSERT INTO lines (order_id, qty) VALUES (5, 2), (5, 15); -- order 5
            SELECT * FROM lines WHERE order_id = 5 AND note <> '5' AND x5 = 55 LIMIT 5 /* 5 */ OFFSET $$5$$;
            """
        let (query, done) = map.substitute(RecordedQuery(queryNumber: 2, sql: sql))
        #expect(
            query.sql == """
                INSERT INTO lines (order_id, qty) VALUES (105, 2), (105, 15); -- order 5
                SELECT * FROM lines WHERE order_id = 105 AND note <> '5' AND x5 = 55 LIMIT 5 /* 5 */ OFFSET $$5$$;
                """)
        #expect(done.count == 3)
        // SQLScanner's rules: an escape string and a nested comment hide their 5s too.
        let escaped = map.substituteLiterals(in: "SELECT E'it\\'s = 5', 1 /* a /* 5 */ = 5 */ WHERE id = 5")
        #expect(escaped.0 == "SELECT E'it\\'s = 5', 1 /* a /* 5 */ = 5 */ WHERE id = 105")
        #expect(escaped.1.count == 1)
        let extended = RecordedQuery(
            queryNumber: 3, sql: "SELECT * FROM lines WHERE order_id = $1 AND qty = $2", queryProtocol: .extended,
            parameters: [RecordedParameter(value: "5", format: .text), RecordedParameter(value: "2", format: .text)])
        let (bound, substituted) = map.substitute(extended)
        #expect(bound.parameters?.map(\.value) == ["105", "2"])
        #expect(substituted == [IDMap.Substitution(place: "parameter $1", recorded: "5", replayed: "105")])
    }

    @Test func laterResultsCompareModuloTheMappingInIDColumnsOnly() {
        var map = IDMap()
        map.learn(from: Self.insert, recorded: Self.result(["id"], [["5"]]), replayed: Self.result(["id"], [["105"]]))
        let recorded = Self.result(["order_id", "count"], [["5", "5"]], tag: "SELECT 1")
        #expect(map.mapped(recorded).result.rows == [["105", "5"]], "the count of 5 stays 5")
        #expect(IDMap().mapped(recorded) == recorded)
    }
}
