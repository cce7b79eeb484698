/// A JSON object: its members in document order.
///
/// An array rather than a dictionary: the objects of a session file have a handful of keys, so a linear lookup
/// beats hashing, and building one costs a single allocation. When a key occurs more than once the last one
/// counts, as in JavaScript's `JSON.parse` and jq. `==` compares members in order.
public struct JSONObject: Sendable, Equatable {
    public struct Member: Sendable, Equatable {
        public var key: String
        public var value: JSONValue

        public init(key: String, value: JSONValue) {
            self.key = key
            self.value = value
        }
    }

    public var members: [Member]

    public init(members: [Member] = []) {
        self.members = members
    }

    public init(_ pairs: KeyValuePairs<String, JSONValue>) {
        self.members = pairs.map { Member(key: $0.key, value: $0.value) }
    }

    public var count: Int { self.members.count }

    public var keys: [String] { self.members.map(\.key) }

    /// The value of the last member named `key`; nil when there is none.
    public subscript(key: String) -> JSONValue? {
        // Comparing lengths first skips most members without a string comparison; the buffer is read in place,
        // without copying (retaining) each member on the way.
        let length = key.utf8.count
        return self.members.withUnsafeBufferPointer { members in
            var index = members.count
            while index > 0 {
                index -= 1
                if members[index].key.utf8.count == length, members[index].key == key {
                    return members[index].value
                }
            }
            return nil
        }
    }
}
