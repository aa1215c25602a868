import Foundation
import JSONValue
import Logging
import ScorerState
import Storage

/// One change of a control `PATCH`: set the value at an RFC 6901 path.
public struct EnginePatch: Sendable, Equatable {
    /// An RFC 6901 pointer such as `/player1/deployment_roll`. Its parent must
    /// exist; a missing last key is added.
    public var path: String
    public var value: JSONValue

    public init(path: String, value: JSONValue) {
        self.path = path
        self.value = value
    }
}

/// The state as the control API reads it.
public struct EngineStateSnapshot: Sendable, Equatable {
    /// The state document (see ``EngineStateView``).
    public var state: JSONValue
    /// The journal sequence of the last commit.
    public var sequence: Int64

    public init(state: JSONValue, sequence: Int64) {
        self.state = state
        self.sequence = sequence
    }
}

/// Which form of the state a read returns.
public enum EngineStateView: String, Sendable, CaseIterable {
    /// The stored document exactly (what a restart resumes). No side effect.
    case stored
    /// The document as a client would be served it now (live timer fields
    /// filled in while the timer runs), computed on a copy: reading it does
    /// not write the live fields back, unlike the legacy's own reads.
    case served
}

/// What `GET /statetee/v1/health` reports.
public struct EngineHealth: Sendable, Equatable {
    /// `ok`, or `closed` once the engine has shut its store.
    public var status: String
    public var shadow: Bool
    public var sequence: Int64
    public var gamePhase: String?
    public var connectedClients: Int
    public var eventsProcessed: Int
    public var dice: String
    public var uptimeSeconds: Double

    public var json: JSONValue {
        [
            "status": .string(status), "shadow": .bool(shadow), "sequence": .int(Int(sequence)),
            "game_phase": gamePhase.map(JSONValue.string) ?? .null, "connected_clients": .int(connectedClients),
            "events_processed": .int(eventsProcessed), "dice": .string(dice), "uptime_seconds": .double(uptimeSeconds),
        ]
    }
}

/// The control interface in-process (the HTTP control API calls these).
extension ScorerEngine {
    /// The current state and the sequence of its last commit.
    public func state(view: EngineStateView = .stored) async -> EngineStateSnapshot {
        await exclusively {
            await settle()  // what is read is durable
            switch view {
            case .stored:
                return EngineStateSnapshot(state: game.document, sequence: sequence)
            case .served:
                var copy = game
                let served = (try? copy.servedState(now: clock.now())) ?? copy.document
                return EngineStateSnapshot(state: served, sequence: sequence)
            }
        }
    }

    /// Replaces the whole state (handoff, resync): journaled as a control
    /// entry with `reason`, committed before anything is sent. With
    /// `broadcast` (and not in shadow mode) every client then gets the
    /// served state.
    @discardableResult
    public func loadState(_ document: JSONValue, reason: String, broadcast: Bool = false) async throws(EngineError)
        -> Int64
    {
        try await exclusively { () async -> Result<Int64, EngineError> in
            await settle()
            guard case .object = document else { return .failure(.invalidState(detail: "found \(document.typeName)")) }
            let newGame: ScorerGame
            do {
                newGame = try ScorerGame(document: document)
            } catch {
                return .failure(.invalidState(detail: "\(error)"))
            }
            return await install(newGame, broadcast: broadcast) { () async throws(StorageError) -> Int64 in
                try await store.replaceState(document, reason: reason, at: Date(timeIntervalSince1970: clock.now()))
            }
        }.get()
    }

    /// Sets values at paths, all or nothing: an invalid path (not a pointer,
    /// the root, a missing parent, an index out of range) throws
    /// ``EngineError/invalidPatch(path:)`` and changes nothing. Journaled as a
    /// control entry `patch_state` with the patches and `reason`.
    @discardableResult
    public func patchState(_ patches: [EnginePatch], reason: String, broadcast: Bool = false) async throws(EngineError)
        -> Int64
    {
        try await exclusively { () async -> Result<Int64, EngineError> in
            await settle()
            var document = game.document
            for patch in patches {
                guard let pointer = JSONPointer(patch.path) else {
                    return .failure(.invalidPatch(path: patch.path, detail: "not an RFC 6901 pointer"))
                }
                guard !pointer.tokens.isEmpty else {
                    return .failure(.invalidPatch(path: patch.path, detail: "the root: load a whole state instead"))
                }
                guard document.set(patch.value, at: pointer) else {
                    return .failure(.invalidPatch(path: patch.path, detail: "no such location in the state"))
                }
            }
            let newGame: ScorerGame
            do {
                newGame = try ScorerGame(document: document)
            } catch {
                return .failure(.invalidState(detail: "\(error)"))
            }
            let arguments: JSONValue = [
                "reason": .string(reason),
                "patches": .array(patches.map { ["path": .string($0.path), "value": $0.value] }),
            ]
            let entry = JournalEntry(
                time: Date(timeIntervalSince1970: clock.now()), event: Self.patchEvent, args: [arguments],
                kind: .control)
            return await install(newGame, broadcast: broadcast) { () async throws(StorageError) -> Int64 in
                try await store.commit(entry, resultingState: document)
            }
        }.get()
    }

    /// The journal event name of ``patchState(_:reason:broadcast:)``.
    public static let patchEvent = "patch_state"

    /// Commits through `write`, then adopts `newGame`, then broadcasts when asked.
    private func install(
        _ newGame: ScorerGame, broadcast: Bool, write: () async throws(StorageError) -> Int64
    ) async -> Result<Int64, EngineError> {
        guard !closed else { return .failure(.storage(.closed)) }
        let committed: Int64
        do {
            committed = try await write()
        } catch {
            logger.error("Engine control commit failed", metadata: ["statetee.error": .string(error.description)])
            return .failure(.storage(error))
        }
        let wasRunning = game.isTimerRunning
        game = newGame
        sequence = committed
        if wasRunning != game.isTimerRunning || game.isTimerRunning { timerChangesContinuation.yield() }
        if broadcast && !shadow {
            var copy = game
            if let served = try? copy.servedState(now: clock.now()) {
                self.broadcast("game_state_update", served)
            }
        }
        return .success(committed)
    }

    /// Whether each commit waits for the disk (see `EngineStore.setFullDurability(_:)`): an
    /// engine that is the proxy's shadow does not need it, and is fsync-bound when mirrored
    /// events reach it one at a time; once it is the primary it must. Waits for what is in
    /// flight (applied before the change, durable under the old setting).
    public func setFullDurability(_ full: Bool) async throws(EngineError) {
        let result: Result<Void, StorageError> = await exclusively {
            await settle()
            do throws(StorageError) {
                try await store.setFullDurability(full)
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        if case .failure(let error) = result { throw .storage(error) }
        logger.info("Engine durability set", metadata: ["statetee.synchronous": .string(full ? "full" : "normal")])
    }

    /// The engine's role behind a proxy: a primary answers for the game (full durability,
    /// the rate limit); a shadow applies whatever the primary accepted (relaxed durability, no
    /// rate limit: refusing a burst the legacy took would only be a divergence).
    public func setRole(primary: Bool) async throws(EngineError) {
        await exclusively {
            limitsRate = primary
            buckets = [:]
        }
        try await setFullDurability(primary)
    }

    /// The store's pragmas in force (journal mode, `synchronous`: see ``setFullDurability(_:)``).
    public func durabilitySettings() async throws(EngineError) -> DurabilitySettings {
        do throws(StorageError) {
            return try await store.durabilitySettings()
        } catch {
            throw .storage(error)
        }
    }

    /// Switches shadow mode (broadcasts suppressed) on or off.
    public func setShadow(_ on: Bool) async {
        await exclusively {
            if shadow != on {
                logger.notice("Engine shadow mode changed", metadata: ["statetee.shadow": .stringConvertible(on)])
            }
            shadow = on
        }
    }

    /// Whether broadcasts are suppressed.
    public var isShadow: Bool { shadow }

    /// A health summary.
    public func health() -> EngineHealth {
        EngineHealth(
            status: closed ? "closed" : "ok", shadow: shadow, sequence: sequence,
            gamePhase: game.state["game_phase"]?.stringValue, connectedClients: connectedClients.count,
            eventsProcessed: eventsProcessed, dice: dice.kind, uptimeSeconds: max(0, clock.now() - startedAt))
    }
}

extension JSONValue {
    /// A short name of the JSON type, for messages.
    var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .int, .bigInt, .double: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}
