extension String {
    /// The first `limit` Unicode scalars (the whole string when it is shorter), and whether that is all of it: how
    /// drawing code reads no more of a text from outside than it can show.
    func head(scalars limit: Int) -> (text: Substring, isWhole: Bool) {
        // Every scalar takes at least one UTF-8 byte: a text with no more bytes than the limit is whole.
        if self.utf8.count <= limit { return (Substring(self), true) }
        let scalars = self.unicodeScalars
        let end = scalars.index(scalars.startIndex, offsetBy: max(limit, 0), limitedBy: scalars.endIndex)
            ?? scalars.endIndex
        return (Substring(scalars[..<end]), end == scalars.endIndex)
    }
}
