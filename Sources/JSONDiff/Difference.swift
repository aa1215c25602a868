import JSONValue

/// One structural difference between the primary's document (`a`) and the
/// shadow's (`b`), at an RFC 6901 path.
///
/// Kinds read from the primary towards the shadow:
/// - ``Kind-swift.enum/added``: present in the shadow only (`primary == nil`);
/// - ``Kind-swift.enum/removed``: present in the primary only (`shadow == nil`);
/// - ``Kind-swift.enum/changed``: same JSON type, different value
///   (an integer and a float count as the same type, "number");
/// - ``Kind-swift.enum/typeChanged``: different JSON types
///   (or integer versus float under ``DiffOptions/NumericEquality/strict``).
///
/// A difference is reported at the highest path where it occurs: a member
/// present on one side only is one `added`/`removed` with its whole subtree,
/// an object replaced by a string is one `typeChanged`.
public struct Difference: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case added
        case removed
        case changed
        case typeChanged = "type_changed"
    }

    public var path: JSONPointer
    public var kind: Kind
    /// The primary's value at `path`; `nil` when absent there (`added`).
    public var primary: JSONValue?
    /// The shadow's value at `path`; `nil` when absent there (`removed`).
    public var shadow: JSONValue?

    public init(path: JSONPointer, kind: Kind, primary: JSONValue?, shadow: JSONValue?) {
        self.path = path
        self.kind = kind
        self.primary = primary
        self.shadow = shadow
    }

    /// `"/player1/cp: changed 2 -> 3"`, `"/x: added 1"`, `"/y: removed {...}"`.
    public var description: String {
        let where_ = path.tokens.isEmpty ? "(root)" : path.description
        switch kind {
        case .added: return "\(where_): added \(shadow?.serialized() ?? "?")"
        case .removed: return "\(where_): removed \(primary?.serialized() ?? "?")"
        case .changed, .typeChanged:
            return "\(where_): \(kind.rawValue) \(primary?.serialized() ?? "?") -> \(shadow?.serialized() ?? "?")"
        }
    }
}
