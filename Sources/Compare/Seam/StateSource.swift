import JSONValue

/// Reads one side's whole state document, as that side would serve it now.
///
/// The proxy implements one for the primary and one for the shadow: a
/// Socket.IO `request_game_state` on a control leg of its own (whose reply
/// reaches no client) for the legacy, the control API for the engine. An
/// implementation must time out on its own and throw.
public protocol StateSource: Sendable {
    func readState() async throws -> JSONValue
}

/// Writes into the shadow's state, out of band (no client sees it, and no
/// message it causes may be reported as a ``SideOutput``).
public protocol ShadowControl: Sendable {
    /// Replaces the shadow's whole state (resync after a divergence or a gap).
    func loadState(_ state: JSONValue, reason: String) async throws
    /// Sets values at paths, all or nothing (the primary's dice adopted into
    /// the shadow). A patch whose value is `nil` removes that object member;
    /// an implementation that cannot remove may load the whole document instead.
    func patch(_ patches: [StatePatch], reason: String) async throws
}

/// One change of ``ShadowControl/patch(_:reason:)``.
public struct StatePatch: Sendable, Equatable, CustomStringConvertible {
    public var path: JSONPointer
    /// The new value; `nil` removes the member.
    public var value: JSONValue?

    public init(path: JSONPointer, value: JSONValue?) {
        self.path = path
        self.value = value
    }

    public var description: String { "\(path.description) = \(value?.serialized() ?? "(removed)")" }
}
