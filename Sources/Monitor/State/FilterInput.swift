/// Typing a `/` filter: the keys the live view and the session browser both understand.
enum FilterInput {
    /// Applies `key` to the text being typed (`input`; nil once typing ends) and returns the filter text to use now,
    /// or nil when the filter stays as it is: Enter keeps the filter and ends typing, Esc clears it.
    static func edit(_ input: inout String?, with key: ViewKey) -> String? {
        var text = input ?? ""
        switch key {
        case .enter:
            input = nil
            return nil
        case .escape:
            input = nil
            return ""
        case .backspace:
            if !text.isEmpty { text.removeLast() }
        case .control("u"):
            text = ""
        case .character(let character):
            text.append(character)
        default:
            return nil
        }
        input = text
        return text
    }
}
