import JSONValue

/// One thing the engine must do, in the order the legacy does it.
public enum ScorerAction: Equatable, Sendable {
    /// Persist this document (what the legacy's `json.dump` writes: the
    /// stored state *before* the broadcast that follows adds live timer fields).
    case save(JSONValue)
    /// Emit `event` with `payload` to every connected client.
    case broadcast(event: String, payload: JSONValue)
    /// Emit `event` with `payload` to the client that sent the event only.
    case reply(event: String, payload: JSONValue)
}

/// What an event did and what the engine must do about it.
public struct ScorerOutcome: Equatable, Sendable {
    /// Saves and emissions, in order (a `save` is followed by its
    /// `game_state_update` broadcast unless building the served state raised).
    public var actions: [ScorerAction]
    /// The arguments of the Socket.IO ACK the legacy sends when the client
    /// asked for one, or nil when it sends none (its handler raised, or no
    /// handler exists). Pi events: `[{"ok": true}]` or
    /// `[{"ok": false, "error": "..."}]`; phone events (never acked by the
    /// shipped clients): `[]` — python-socketio acks a handler's `None` with
    /// no arguments.
    public var ackArguments: [JSONValue]?
    /// Why the event was ignored, refused or failed; nil when fully applied.
    public var error: ScorerError?
    /// Whether the stored state differs from before the event: a save, the
    /// live timer fields a served state writes back, or the partial change a
    /// handler made before it raised (the legacy keeps it, unsaved).
    public var stateChanged: Bool

    public init(
        actions: [ScorerAction] = [], ackArguments: [JSONValue]? = nil, error: ScorerError? = nil,
        stateChanged: Bool = false
    ) {
        self.actions = actions
        self.ackArguments = ackArguments
        self.error = error
        self.stateChanged = stateChanged
    }

    /// The Pi ack payload (`{"ok": true}` / `{"ok": false, "error": ...}`), nil for other events.
    public var piAck: JSONValue? {
        guard let first = ackArguments?.first, case .object(let o) = first, o["ok"] != nil else { return nil }
        return first
    }

    /// Whether the legacy saved (each save rewrites its file).
    public var saved: Bool { actions.contains { if case .save = $0 { true } else { false } } }

    /// The documents saved, in order.
    public var savedDocuments: [JSONValue] {
        actions.compactMap { if case .save(let d) = $0 { d } else { nil } }
    }

    /// Events sent to everyone, in order.
    public var broadcasts: [(event: String, payload: JSONValue)] {
        actions.compactMap { if case .broadcast(let e, let p) = $0 { (e, p) } else { nil } }
    }

    /// Events sent to the requester only, in order.
    public var replies: [(event: String, payload: JSONValue)] {
        actions.compactMap { if case .reply(let e, let p) = $0 { (e, p) } else { nil } }
    }
}
