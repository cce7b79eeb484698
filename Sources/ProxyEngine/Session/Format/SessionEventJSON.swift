import Foundation

/// The JSON form of session events (docs/session-format.md).
///
/// Encoding is hand-written straight into a byte array: `JSONEncoder` builds a boxed tree and sorts nothing we
/// need, and is several times too slow for the 40,000 events a second a busy proxy records. Decoding goes through
/// our own `JSONParser` (typed values straight from the bytes) and is lenient (see `decode(_:)`), since it must
/// accept the seed's files.
public enum SessionEventJSON {
    /// Appends `event` as one line of compact JSON (without a line break) to `bytes`.
    public static func encode(_ event: SessionEvent, into bytes: inout [UInt8]) {
        var writer = SessionJSONWriter(bytes: [])
        swap(&writer.bytes, &bytes)
        writer.event(event)
        swap(&writer.bytes, &bytes)
    }

    /// `event` as one line of compact JSON (without a line break).
    public static func encode(_ event: SessionEvent) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(self.estimatedSize(of: event))
        self.encode(event, into: &bytes)
        return bytes
    }

    /// A cheap guess of the encoded size, for the writer's backlog accounting (never encodes).
    public static func estimatedSize(of event: SessionEvent) -> Int {
        switch event.payload {
        case .activity(let activity):
            let details = activity.details
            let strings = [
                details.sessionID, details.pseudoUser, details.proxyVersion, details.clientAddress,
                details.applicationName, details.realUser, details.database, details.realDBHost, details.realDBPort,
                details.reason,
            ]
            return 400 + strings.reduce(0) { $0 + ($1?.utf8.count ?? 0) }
        case .query(let query):
            var size = 160 + query.sql.utf8.count
            for parameter in query.parameters ?? [] {
                size += 30 + (parameter.value?.utf8.count ?? 0)
            }
            size += 11 * ((query.parameterTypes?.count ?? 0) + (query.resultFormats?.count ?? 0))
            return size
        case .result(let result):
            var size = 160 + Self.estimatedSize(of: result.result)
            for resultSet in result.resultSets ?? [] {
                size += Self.estimatedSize(of: resultSet)
            }
            if let error = result.error {
                size += 120 + error.message.utf8.count + (error.detail?.utf8.count ?? 0)
                    + (error.hint?.utf8.count ?? 0)
            }
            for notice in result.notices ?? [] {
                size += 120 + notice.message.utf8.count + (notice.detail?.utf8.count ?? 0)
            }
            for chunk in result.copyData ?? [] {
                size += 4 + chunk.utf8.count
            }
            return size
        }
    }

    private static func estimatedSize(of resultSet: RecordedResultSet) -> Int {
        var size = 120 + 12 * resultSet.columnTypes.count + (resultSet.rowsDigest?.utf8.count ?? 0)
        for column in resultSet.columns {
            size += 3 + column.utf8.count
        }
        for row in resultSet.rows {
            size += 3
            for value in row {
                size += 3 + (value?.utf8.count ?? 1)
            }
        }
        return size
    }
}
