/// The parser's stack of finished elements (or members) of the containers still open, innermost last.
///
/// When a container closes, its elements go into one exactly sized array: one allocation per container however
/// many elements it has, and no copy-on-write checks on the way. A class so that its storage is freed with it; it
/// never leaves the parser.
final class JSONParserStack<Element> {
    private var storage: UnsafeMutablePointer<Element>
    private var capacity: Int
    private(set) var count = 0

    init(capacity: Int = 64) {
        self.capacity = capacity
        self.storage = UnsafeMutablePointer<Element>.allocate(capacity: capacity)
    }

    deinit {
        self.storage.deinitialize(count: self.count)
        self.storage.deallocate()
    }

    func push(_ element: consuming Element) {
        if self.count == self.capacity {
            let larger = UnsafeMutablePointer<Element>.allocate(capacity: self.capacity * 2)
            larger.moveInitialize(from: self.storage, count: self.count)
            self.storage.deallocate()
            self.storage = larger
            self.capacity *= 2
        }
        (self.storage + self.count).initialize(to: element)
        self.count += 1
    }

    /// Takes the elements from `base` to the top off the stack, as a new array.
    func pop(from base: Int) -> [Element] {
        let taken = self.count - base
        guard taken > 0 else { return [] }
        let source = self.storage + base
        // Copied, then dropped here. Moving them would save the reference counting, but both ways the standard
        // library offers to fill an array in place (`Array(unsafeUninitializedCapacity:)`, `Array(repeating:)`)
        // look the array's type metadata up at run time on every call, which costs more.
        let array = Array(UnsafeBufferPointer(start: source, count: taken))
        source.deinitialize(count: taken)
        self.count = base
        return array
    }

    /// Drops every element (after an error, or before the next value).
    func removeAll() {
        self.storage.deinitialize(count: self.count)
        self.count = 0
    }
}
