/// Which server an observation comes from: the one whose answers reach the
/// clients, or the one that receives the mirrored copy.
public enum Side: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case primary
    case shadow

    public var description: String { rawValue }
}
