#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension String {
    /// Whether both strings are the same UTF-8 bytes. `==` on strings is canonical
    /// equivalence (`"é"` precomposed equals `"e"` + U+0301); serialized JSON, cached wire
    /// text and relayed frames must be compared byte for byte. (One `memcmp`: the proxy's
    /// event cache compares a ~1 KB broadcast once per leg.)
    public func hasSameUTF8(as other: String) -> Bool {
        guard utf8.count == other.utf8.count else { return false }
        var left = self
        var right = other
        return left.withUTF8 { left in
            right.withUTF8 { right in left.isEmpty || memcmp(left.baseAddress!, right.baseAddress!, left.count) == 0 }
        }
    }
}
