import Foundation

/// Which queries the Live queries pane shows: a text typed after `/`, and a session picked with `s`.
///
/// The text matches, case-insensitively, the SQL, the pseudo or real user, or the session (`#3` or its ID).
/// `user:NAME` and `session:N` look only at the user or the session. Results are never searched, and the SQL only in
/// its first `searchedSQLScalars` characters: every new query is matched as it arrives, and every query in the
/// history at each key typed, so a client's 50 MB statement must cost no more than a long one.
public struct QueryFilter: Sendable, Equatable {
    public private(set) var text: String
    public private(set) var sessionID: String?
    private var needle: Needle

    private enum Needle: Sendable, Equatable {
        case none
        case anywhere(String)
        case user(String)
        case session(String)
    }

    public init(text: String = "", sessionID: String? = nil) {
        self.text = text
        self.sessionID = sessionID
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        if trimmed.isEmpty {
            self.needle = .none
        } else if trimmed.hasPrefix("user:") {
            self.needle = .user(String(trimmed.dropFirst(5)).trimmingCharacters(in: .whitespaces))
        } else if trimmed.hasPrefix("session:") {
            self.needle = .session(String(trimmed.dropFirst(8)).trimmingCharacters(in: .whitespaces))
        } else {
            self.needle = .anywhere(trimmed)
        }
    }

    /// How much of a statement the text is looked for in (Unicode scalars): statements longer than this name their
    /// tables and columns well before it.
    public static let searchedSQLScalars = 8192

    public var isActive: Bool { self.needle != .none || self.sessionID != nil }

    public func matches(_ entry: QueryEntry) -> Bool {
        if let sessionID = self.sessionID, entry.sessionID != sessionID {
            return false
        }
        switch self.needle {
        case .none:
            return true
        case .user(let name):
            return Self.userMatches(entry, name)
        case .session(let session):
            return Self.sessionMatches(entry, session)
        case .anywhere(let text):
            let sql = entry.query.sql.head(scalars: Self.searchedSQLScalars).text
            return sql.lowercased().contains(text) || Self.userMatches(entry, text) || Self.sessionMatches(entry, text)
        }
    }

    private static func userMatches(_ entry: QueryEntry, _ name: String) -> Bool {
        name.isEmpty || entry.pseudoUser.lowercased().contains(name) || entry.realUser.lowercased().contains(name)
    }

    private static func sessionMatches(_ entry: QueryEntry, _ session: String) -> Bool {
        let number = session.hasPrefix("#") ? String(session.dropFirst()) : session
        if number.isEmpty { return true }
        return String(entry.sessionNumber) == number || entry.sessionID.lowercased().contains(session)
    }
}
