import Foundation
import Testing

/// The compatibility matrix (`make test-matrix`, docs/compatibility.md): every row of `MatrixRow.all` (an upstream
/// major, a client major, a way of connecting) runs its checks through the real pgreel binary against a real
/// cluster of that major, with that major's own psql and pgbench. Each check's outcome is appended to
/// `MatrixSettings.resultsFile`, which scripts/matrix-table.py prints as the table; a failed check is also a
/// failed test.
///
/// Skipped unless `PGREEL_MATRIX=1`: it needs the majors of `scripts/postgres-versions.sh ensure`, and takes minutes.
@Suite(.enabled(if: MatrixSettings.enabled, "the compatibility matrix runs with PGREEL_MATRIX=1: make test-matrix"))
struct MatrixTests {
    @Test(.timeLimit(.minutes(30)), arguments: MatrixRow.selected)
    func row(_ row: MatrixRow) async throws {
        let results = try await MatrixGate.shared.run { await Self.run(row) }
        for result in results where result.status == .failed {
            Issue.record("\(row.label) · \(result.check): \(result.reason ?? "failed")")
        }
        #expect(results.count == MatrixCheck.allCases.count)
    }

    /// Runs the row's checks in order and appends each outcome to the results file. A row whose cluster or client
    /// cannot be had fails every one of its checks with that reason.
    private static func run(_ row: MatrixRow) async -> [MatrixResult] {
        let rowIndex = MatrixRow.all.firstIndex { $0.label == row.label } ?? -1
        var upstreamVersion = "\(row.upstream)"
        var clientVersion = "\(row.client)"
        func result(_ check: MatrixCheck, _ status: MatrixResult.Status, _ reason: String?, _ seconds: Double)
            -> MatrixResult
        {
            let result = MatrixResult(
                rowIndex: rowIndex, row: row.label, upstream: row.upstream, upstreamVersion: upstreamVersion,
                client: row.client, clientVersion: clientVersion, connection: row.connection.rawValue,
                checkIndex: MatrixCheck.allCases.firstIndex(of: check) ?? -1, check: check.rawValue, status: status,
                reason: reason, seconds: seconds)
            do {
                try result.append()
            } catch {
                Issue.record("cannot write the matrix results: \(error)")
            }
            return result
        }

        var run: MatrixRowRun
        do {
            let cluster = try await MatrixClusters.cluster(major: row.upstream)
            let client = try PostgresInstallation.major(row.client)
            upstreamVersion = cluster.version
            clientVersion = try await MatrixBuild.clientVersion(client)
            run = MatrixRowRun(
                row: row, cluster: cluster, client: client, clientHasTLS: try await MatrixBuild.hasTLS(client),
                certificates: try await MatrixCertificates.shared())
        } catch {
            return MatrixCheck.allCases.map { result($0, .failed, "set-up: \(error)", 0) }
        }

        var results: [MatrixResult] = []
        let clock = ContinuousClock()
        for check in MatrixCheck.allCases {
            let started = clock.now
            var status = MatrixResult.Status.ok
            var reason: String?
            do {
                if case .notApplicable(let why) = try await run.run(check) {
                    status = .notApplicable
                    reason = why
                }
            } catch {
                status = .failed
                reason = "\(error)"
            }
            let elapsed = clock.now - started
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            results.append(result(check, status, reason, (seconds * 10).rounded() / 10))
        }
        return results
    }
}
