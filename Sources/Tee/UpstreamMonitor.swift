import AsyncHTTPClient
import Foundation
import JSONValue
import Logging
import NIOCore
import NIOHTTP1
import SocketIOClient
import SocketIOProtocol
import Synchronization

/// The proxy's own connection to one upstream: health probes (a
/// `request_game_state` answered in time), and the state reads and loads of a
/// switchover. Independent of client sessions.
final class UpstreamMonitor: Sendable {
    enum Health: Sendable, Equatable {
        case unknown
        case healthy
        /// Connected, but its probes time out (slow or hung): what is written to it waits in
        /// its connections and is processed if it recovers.
        case unresponsive(String)
        /// Unreachable: its connection was lost or refused, or it cannot be asked.
        case degraded(String)

        var isHealthy: Bool { self == .healthy }
        /// Unresponsive or degraded.
        var isFailing: Bool { reason != nil }
        /// Status and readiness show both failing kinds as `degraded` (the reason tells them apart).
        var name: String {
            switch self {
            case .unknown: "unknown"
            case .healthy: "healthy"
            case .unresponsive, .degraded: "degraded"
            }
        }
        var reason: String? {
            switch self {
            case .unknown, .healthy: nil
            case .unresponsive(let reason): reason + " (connected: mirror copies still go to its connections)"
            case .degraded(let reason): reason
            }
        }
        /// Whether its health changed in a way that matters: healthy or not, reachable or not.
        func differs(from other: Health) -> Bool {
            switch (self, other) {
            case (.healthy, .healthy), (.unresponsive, .unresponsive), (.degraded, .degraded): false
            default: true
            }
        }
    }

    private struct State {
        var health: Health = .unknown
        var connected = false
        /// The mirror sequence at the start of the last successful probe.
        var confirmedSequence: Int64?
        var waiters: [Int: CheckedContinuation<JSONValue, any Error>] = [:]
        /// Per waiting read: the last `game_state_update` since its request (the reply comes
        /// before the request's ack; a broadcast sent just before may come before the reply).
        var seen: [Int: JSONValue?] = [:]
        /// Reads answered before their waiter was registered.
        var answered: [Int: JSONValue?] = [:]
        var nextWaiter = 0
    }

    let upstream: UpstreamID
    let endpoint: UpstreamEndpoint
    private let client: SocketIOClient?
    private let engine: (any InProcessEngine)?
    private let control: UpstreamControl?
    private let probeInterval: Duration
    private let probeTimeout: Duration
    private let onHealthChange: @Sendable (UpstreamID, Health) async -> Void
    private let currentSequence: @Sendable () -> Int64
    private let state = Mutex(State())
    private let logger: Logger

    init(
        upstream: UpstreamID, endpoint: UpstreamEndpoint, engine: (any InProcessEngine)?, control: UpstreamControl?,
        probeInterval: Duration, probeTimeout: Duration, httpClient: HTTPClient, logger: Logger,
        currentSequence: @escaping @Sendable () -> Int64,
        onHealthChange: @escaping @Sendable (UpstreamID, Health) async -> Void
    ) {
        self.currentSequence = currentSequence
        self.upstream = upstream
        self.endpoint = endpoint
        self.engine = engine
        self.control = control
        self.probeInterval = probeInterval
        self.probeTimeout = probeTimeout
        self.onHealthChange = onHealthChange
        var logger = logger
        logger[metadataKey: "statetee.upstream"] = .string(upstream.rawValue)
        self.logger = logger
        if case .url(let url) = endpoint {
            let reconnect = SocketIOClient.ReconnectPolicy(
                initialDelay: .milliseconds(200), maxDelay: .seconds(2), retryInitialConnect: true)
            client = SocketIOClient(
                configuration: .init(
                    url: url, transport: .websocket, reconnect: reconnect, connectTimeout: probeTimeout * 2,
                    bufferWhileDisconnected: false, rawPackets: true),
                httpClient: httpClient, logger: logger)
        } else {
            client = nil
        }
    }

    var health: Health { state.withLock { $0.health } }

    /// Whether the upstream can take a state load (the embedded engine, or an engine with a control URL).
    var canLoadState: Bool { engine != nil || control != nil }

    /// Runs the control connection and the probes until cancelled or ``stop()``.
    func run() async {
        await withDiscardingTaskGroup { group in
            if let client {
                group.addTask { _ = try? await client.run() }
                group.addTask { await self.readEvents(client) }
            }
            group.addTask { await self.probeLoop() }
        }
    }

    func stop() async {
        await client?.disconnect()
    }

    private func readEvents(_ client: SocketIOClient) async {
        for await event in client.events {
            switch event {
            case .connected:
                state.withLock { $0.connected = true }
            case .packet(let packet, _) where packet.eventName == "game_state_update":
                let payload = packet.eventArguments.first ?? .null
                state.withLock { state in
                    for id in state.seen.keys { state.seen[id] = payload }
                }
            case .packet(let packet, _) where packet.isAck:
                // The answer to a read: the state is the last one received before it.
                guard let id = packet.id else { break }
                let (waiter, seen) = state.withLock { state -> (CheckedContinuation<JSONValue, any Error>?, JSONValue??) in
                    guard let seen = state.seen.removeValue(forKey: id) else { return (nil, nil) }
                    guard let waiter = state.waiters.removeValue(forKey: id) else {
                        state.answered[id] = seen
                        return (nil, nil)
                    }
                    return (waiter, seen)
                }
                switch seen {
                case .some(.some(let value)): waiter?.resume(returning: value)
                case .some(.none): waiter?.resume(throwing: Timeout(limit: probeTimeout))
                case .none: break
                }
            case .disconnected(let reason):
                state.withLock { $0.connected = false }
                if reason != .clientDisconnect { await setHealth(.degraded("connection lost: \(reason.rawValue)")) }
            case .connectError(let data):
                await setHealth(.degraded("connection refused: \(data)"))
            default:
                break
            }
        }
        let waiters = state.withLock { state in
            defer {
                state.waiters = [:]
                state.seen = [:]
                state.answered = [:]
            }
            return state.waiters
        }
        for waiter in waiters.values { waiter.resume(throwing: SocketIOClientError.stopped) }
    }

    /// Probes every `probeInterval`. A probe that times out twice in a row makes the upstream
    /// unresponsive (a busy machine may miss one deadline); a refused or lost connection makes
    /// it degraded at once.
    /// Failures while the first connection is still being made (within two probe timeouts of
    /// the start) leave the health `unknown`.
    private func probeLoop() async {
        let clock = ContinuousClock()
        let startupGrace = clock.now.advanced(by: probeTimeout * 2)
        var timeouts = 0
        while !Task.isCancelled {
            let sequence = currentSequence()
            do {
                _ = try await readState()
                timeouts = 0
                state.withLock { $0.confirmedSequence = sequence }
                await setHealth(.healthy)
            } catch is CancellationError {
                return
            } catch {
                let starting = health == .unknown && clock.now < startupGrace
                if error is Timeout {
                    timeouts += 1
                    if timeouts >= 2, !starting { await setHealth(.unresponsive(String(describing: error))) }
                } else if !starting {
                    await setHealth(.degraded(String(describing: error)))
                }
            }
            try? await Task.sleep(for: probeInterval)
        }
    }

    /// Mirror events from this sequence on have no sign of having reached the upstream.
    var confirmedSequence: Int64? { state.withLock { $0.confirmedSequence } }

    private func setHealth(_ health: Health) async {
        let changed = state.withLock { state -> Bool in
            defer { state.health = health }
            return health.differs(from: state.health)
        }
        guard changed else { return }
        if health.isHealthy {
            logger.info("Upstream healthy")
        } else {
            let kind = if case .unresponsive = health { "unresponsive" } else { "degraded" }
            logger.info("Upstream \(kind)", metadata: ["statetee.reason": .string(health.reason ?? "")])
        }
        await onHealthChange(upstream, health)
    }

    struct Timeout: Error, CustomStringConvertible {
        let limit: Duration
        var description: String { "no game_state_update within \(limit)" }
    }

    /// The upstream's current served state (a `request_game_state` round trip, or the engine's API).
    func readState() async throws -> JSONValue {
        if let engine { return try await engine.currentState() }
        guard let client else { throw Timeout(limit: probeTimeout) }
        let limit = probeTimeout
        return try await withThrowingTaskGroup(of: JSONValue?.self) { group in
            let id = state.withLock { state in
                state.nextWaiter += 1
                state.seen[state.nextWaiter] = .some(nil)  // states count from now on
                return state.nextWaiter
            }
            group.addTask { try await self.waitForState(id: id) }
            group.addTask {
                try? await Task.sleep(for: limit)
                return nil
            }
            defer { group.cancelAll() }
            do {
                // With an ack id: the legacy (Flask-SocketIO) acknowledges a handled event whose
                // sender asks, after its reply; the ack tells the reply from a broadcast.
                try await client.send(.event("request_game_state", [], id: id))
            } catch {
                self.cancelWaiter(id, error: error)
                throw error
            }
            guard let first = try await group.next(), let value = first else {
                self.cancelWaiter(id, error: Timeout(limit: limit))
                throw Timeout(limit: limit)
            }
            return value
        }
    }

    private func waitForState(id: Int) async throws -> JSONValue {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                enum Now { case cancelled, answered(JSONValue?), waiting }
                let now = state.withLock { state -> Now in
                    if Task.isCancelled { return .cancelled }
                    if let answer = state.answered.removeValue(forKey: id) { return .answered(answer) }
                    state.waiters[id] = continuation
                    return .waiting
                }
                switch now {
                case .cancelled: continuation.resume(throwing: CancellationError())
                case .answered(let value?): continuation.resume(returning: value)
                case .answered(nil): continuation.resume(throwing: Timeout(limit: probeTimeout))
                case .waiting: break
                }
            }
        } onCancel: {
            cancelWaiter(id, error: CancellationError())
        }
    }

    private func cancelWaiter(_ id: Int, error: any Error) {
        let waiter = state.withLock { state in
            state.seen.removeValue(forKey: id)
            state.answered.removeValue(forKey: id)
            return state.waiters.removeValue(forKey: id)
        }
        waiter?.resume(throwing: error)
    }

    /// Tells the embedded engine its role (its durability); nothing for a socket upstream.
    func setRole(primary: Bool) async throws {
        try await engine?.setRole(primary: primary)
    }

    /// Loads `state` into the upstream (the engine only).
    func loadState(_ value: JSONValue) async throws {
        if let engine { return try await engine.loadState(value) }
        guard let control else { throw UpstreamControl.Failure(description: "\(upstream) has no load API") }
        try await control.loadState(value)
    }
}

/// An external engine's HTTP control API (`/statetee/v1/`, bearer token).
struct UpstreamControl: Sendable {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    let baseURL: String
    let token: String
    let httpClient: HTTPClient

    /// `PUT /statetee/v1/state` with `{"state": ..., "reason": "handoff", "broadcast": false}`.
    func loadState(_ state: JSONValue) async throws {
        var request = HTTPClientRequest(url: baseURL + "/statetee/v1/state")
        request.method = .PUT
        request.headers.add(name: "Authorization", value: "Bearer " + token)
        request.headers.add(name: "Content-Type", value: "application/json")
        let body: JSONValue = ["state": state, "reason": "handoff", "broadcast": false]
        request.body = .bytes(ByteBuffer(bytes: body.serializedBytes()))
        let response = try await httpClient.execute(request, timeout: .seconds(10))
        guard (200..<300).contains(response.status.code) else {
            throw Failure(description: "PUT /statetee/v1/state answered \(response.status.code)")
        }
    }
}
