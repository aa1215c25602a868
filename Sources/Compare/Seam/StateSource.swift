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
    /// ``loadState(_:reason:)`` in order: `state` is the primary's after event `sequence`, so it
    /// is loaded once the shadow has handled every event up to `sequence`, and only if no later
    /// event reached the primary in the meantime (else ``ShadowNotQuiet`` is thrown: the
    /// loaded state would hold events the shadow is about to handle again).
    func loadState(_ state: JSONValue, reason: String, through sequence: Int64) async throws
    /// ``patch(_:reason:)`` in order, like ``loadState(_:reason:through:)``.
    func patch(_ patches: [StatePatch], reason: String, through sequence: Int64) async throws
}

extension ShadowControl {
    /// Without a way to order writes with the shadow's events: written at once.
    public func loadState(_ state: JSONValue, reason: String, through sequence: Int64) async throws {
        try await loadState(state, reason: reason)
    }

    public func patch(_ patches: [StatePatch], reason: String, through sequence: Int64) async throws {
        try await patch(patches, reason: reason)
    }
}

/// A write into the shadow refused because newer events reached the primary first: the
/// comparator tries again at the next quiet moment.
public struct ShadowNotQuiet: Error, CustomStringConvertible {
    public var through: Int64
    public var newest: Int64

    public init(through: Int64, newest: Int64) {
        self.through = through
        self.newest = newest
    }

    public var description: String {
        "events up to \(newest) reached the primary after the state of event \(through) was read"
    }
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
