import Foundation
import Testing

/// The columns of the compatibility matrix, in the order the table shows them (docs/compatibility.md says what
/// each one does).
enum MatrixCheck: String, CaseIterable, Sendable {
    case connect
    case seed
    case pgbenchInit = "pgbench -i"
    case selectSimple = "-S simple"
    case selectExtended = "-S extended"
    case selectPrepared = "-S prepared"
    case copy = "COPY in/out"
    case notify = "LISTEN/NOTIFY"
    case cancel
    case scram = "SCRAM"
    case scramPlus = "SCRAM-PLUS"
    case replay
    case stepThrough = "step-through"
}

/// One row of the matrix: an upstream PostgreSQL major behind pgreel, the major whose psql and pgbench connect to
/// pgreel, and how they connect.
struct MatrixRow: Sendable, CustomTestStringConvertible {
    /// How the row's clients connect to pgreel (every psql and pgbench of the row, through libpq's environment).
    enum Connection: String, Sendable {
        /// libpq's defaults: protocol 3.0, `sslmode=prefer` (pgreel has no certificate: plain text).
        case plain
        /// `max_protocol_version=3.2` (libpq 18).
        case protocol32 = "protocol 3.2"
        /// `sslmode=require sslnegotiation=direct` (libpq 17+) against pgreel with a certificate: TLS from the
        /// first byte, no SSLRequest.
        case directTLS = "direct TLS"

        var environment: [String: String] {
            switch self {
            case .plain: [:]
            case .protocol32: ["PGMAXPROTOCOLVERSION": "3.2"]
            case .directTLS: ["PGSSLMODE": "require", "PGSSLNEGOTIATION": "direct"]
            }
        }
    }

    let upstream: Int
    let client: Int
    let connection: Connection

    /// "18 ← psql 15", "15 ← psql 18 (protocol 3.2)".
    var label: String {
        let base = "\(self.upstream) ← psql \(self.client)"
        return self.connection == .plain ? base : base + " (\(self.connection.rawValue))"
    }

    var testDescription: String { self.label }

    /// Every row runs every check (a row takes seconds, so there is no need for a subset). Upstream by upstream:
    /// - psql and pgbench of 15, 17 and 18 (the client majors people run), and of the upstream's own major (16's
    ///   for 16), with libpq's defaults;
    /// - psql 18 asking for protocol 3.2;
    /// - psql 17 with direct TLS (17 is the first libpq with it; 18's wheel has no SSL).
    static let all: [MatrixRow] = [15, 16, 17, 18].flatMap { upstream in
        let clients = Set([15, 17, 18, upstream]).sorted()
        return clients.map { MatrixRow(upstream: upstream, client: $0, connection: .plain) } + [
            MatrixRow(upstream: upstream, client: 18, connection: .protocol32),
            MatrixRow(upstream: upstream, client: 17, connection: .directTLS),
        ]
    }

    /// The rows to run: all of them, or only those whose upstream and client majors are both listed in
    /// `PGREEL_MATRIX_MAJORS` (e.g. `15 18`).
    static var selected: [MatrixRow] {
        guard let list = MatrixSettings.majors else { return self.all }
        return self.all.filter { list.contains($0.upstream) && list.contains($0.client) }
    }
}

/// The environment that switches the matrix on and shapes it.
enum MatrixSettings {
    private static var environment: [String: String] { ProcessInfo.processInfo.environment }

    /// `PGREEL_MATRIX=1`: without it the matrix suite is skipped, so `make test` stays as it is.
    static var enabled: Bool {
        ["1", "true", "yes"].contains(self.environment["PGREEL_MATRIX"]?.lowercased() ?? "")
    }

    /// `PGREEL_MATRIX_MAJORS`: majors separated by spaces or commas; nil when unset (every row).
    static var majors: Set<Int>? {
        guard let value = self.environment["PGREEL_MATRIX_MAJORS"], !value.isEmpty else { return nil }
        return Set(value.split(whereSeparator: { $0 == " " || $0 == "," }).compactMap { Int($0) })
    }

    /// `PGREEL_MATRIX_JOBS`: rows run at once (default 2, one per core of the machines this project runs on).
    static var jobs: Int {
        max(1, Int(self.environment["PGREEL_MATRIX_JOBS"] ?? "") ?? 2)
    }

    /// `PGREEL_MATRIX_RESULTS`: the JSON lines file each check's outcome is appended to (default
    /// `.build/matrix/results.jsonl` in the package).
    static var resultsFile: String {
        if let path = self.environment["PGREEL_MATRIX_RESULTS"], !path.isEmpty {
            return path
        }
        let root = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return root.appendingPathComponent(".build/matrix/results.jsonl").path
    }
}
