import Foundation

/// A throwaway certificate authority and a server certificate it signed, made with the openssl command line in a
/// temporary directory (keys mode 0600) that goes when the test process exits. ECDSA P-256 keys signed with SHA-256: quick to make, and a certificate
/// PostgreSQL and pgreel both bind SCRAM-SHA-256-PLUS to.
struct TestCertificates: Sendable {
    let directory: String
    /// The CA's certificate: what a client trusts (sslrootcert).
    let authority: String
    let certificate: String
    let key: String

    /// - Parameter names: the server certificate's subjectAltName entries (`DNS:localhost`, `IP:127.0.0.1`); its
    ///   common name is `localhost`.
    static func make(names: [String] = ["DNS:localhost", "IP:127.0.0.1"]) async throws -> TestCertificates {
        let directory = try makeTemporaryDirectory(prefix: "pgreel-certs")
        _ = HarnessExit.register { try? FileManager.default.removeItem(atPath: directory) }
        let openssl = try Tools.resolveExecutable("openssl")
        let curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        func run(_ arguments: [String]) async throws {
            let result = try await ProcessRunner.run(
                openssl, arguments, environment: ["LC_ALL": "C"], workingDirectory: directory)
            guard result.succeeded else { throw TestFailure("openssl \(arguments.joined(separator: " ")): \(result)") }
        }
        try await run(
            ["req", "-x509"] + curve + [
                "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-sha256", "-subj", "/CN=pgreel test CA",
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            ])
        try await run(["req"] + curve + ["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"])
        try "subjectAltName=\(names.joined(separator: ","))\n".write(
            toFile: directory + "/server.ext", atomically: false, encoding: .utf8)
        try await run([
            "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "server.crt", "-days", "2", "-sha256", "-extfile", "server.ext",
        ])
        for key in ["ca.key", "server.key"] {
            chmod(directory + "/" + key, 0o600)
        }
        return TestCertificates(
            directory: directory, authority: directory + "/ca.crt", certificate: directory + "/server.crt",
            key: directory + "/server.key")
    }
}
