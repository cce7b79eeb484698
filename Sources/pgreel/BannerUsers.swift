import ProxyEngine

extension ProxyConfiguration {
    /// The pseudo users as the banner and the JSON start line show them (upstream passwords masked).
    static func methodName(_ method: AuthMethod) -> String {
        switch method {
        case .scramSHA256: return "SCRAM-SHA-256"
        case .md5: return "MD5"
        case .cleartext: return "cleartext password"
        case .trust: return "trust"
        }
    }

    var bannerUsers: [BannerUser] {
        self.users.map { user in
            BannerUser(
                pseudoUser: user.name,
                passwordInfo: user.authMethod == .trust ? .any : .required(method: Self.methodName(user.authMethod)),
                database: user.upstream.database, maskedUpstreamURL: user.upstream.masked)
        }
    }

    /// The banner's TLS line: "TLS on (required): certificate server.crt", nil without TLS.
    var bannerTLS: String? {
        guard let tls = self.tls else { return nil }
        let mode = tls.required ? "required: plain-text clients are refused" : "optional: clients choose"
        return "TLS on (\(mode)), certificate \(tls.certificatePath)"
    }
}
