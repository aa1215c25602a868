extension String {
    /// Whether both strings are the same UTF-8 bytes. `==` on strings is canonical
    /// equivalence (`"é"` precomposed equals `"e"` + U+0301); serialized JSON, cached wire
    /// text and relayed frames must be compared byte for byte.
    public func hasSameUTF8(as other: String) -> Bool {
        guard utf8.count == other.utf8.count else { return false }
        var left = self
        var right = other
        return left.withUTF8 { left in right.withUTF8 { right in left.elementsEqual(right) } }
    }
}
