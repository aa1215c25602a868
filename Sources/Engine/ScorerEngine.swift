import Foundation
import JSONValue
import Logging
import Metrics
import ScorerState
import SocketIOServer
import Storage

/// The state engine: the legacy scoreboard's game, durable and in order.
///
/// One actor owns the ``ScorerGame``, the dice, the ``EngineStore`` and the
/// clock. Every operation (a client event, a connection, the display
/// refresh, a control request) runs alone, in arrival order: the actor's
/// reentrancy at `await` is closed by a FIFO gate.
///
/// For each event: apply it to the game; if the state changed, journal the
/// event and commit the resulting state; only once every state applied so
/// far is on disk send what the legacy sends (replies to the sender,
/// broadcasts to everyone — suppressed in shadow mode), then the `error`
/// event when the input was refused and error events are enabled. Commits
/// are grouped (`ScorerEngine+GroupCommit.swift`): the events applied while
/// one transaction is being written share the next one, so one fsync serves
/// many events under load; their emissions wait, in order, for it. A failed
/// commit rolls the game back and answers `SERVER_ERROR` to every event
/// applied since: nothing is sent that is not durable.
///
/// Feed it from Socket.IO (``EngineServer``) or in-process
/// (``receive(_:arguments:from:)``, ``connect(_:)``); control it with the
/// methods in `ScorerEngine+Control.swift` (they first wait for the events in
/// flight to be durable). As a `Service` it runs the
/// once-a-second display refresh and checkpoints and closes the store on
/// graceful shutdown.
public actor ScorerEngine {
    public nonisolated let configuration: EngineConfiguration
    let store: EngineStore
    let clock: EngineClock
    let logger: Logger

    var game: ScorerGame
    var dice: EngineDice
    var shadow: Bool
    /// The journal sequence of the last commit (0 when nothing was ever committed).
    var sequence: Int64
    var broadcaster: EngineEmitter?
    /// Preferred to ``broadcaster`` when set (a Socket.IO server: one encode for every client).
    var encodedBroadcaster: EngineEncodedEmitter?
    /// The last served state's encoding, shared by its broadcast and later requesters.
    var emissions = EncodedEmissions()
    var buckets: [String: TokenBucket] = [:]
    /// When each client was last told it is rate limited (one notice a second).
    var rateLimitNotices: [String: Double] = [:]
    var connectedClients: Set<String> = []
    var closed = false
    /// Whether the engine answers for the game (it is not a proxy's shadow, embedded or in
    /// shadow mode): only then does it rate-limit. A shadow applies every event the primary
    /// accepted, as the legacy (which has no limit) does.
    var limitsRate = true
    let startedAt: Double
    var eventsProcessed = 0

    private var gateBusy = false
    private var gateWaiters: [CheckedContinuation<Void, Never>] = []

    /// Group commit (see `ScorerEngine+GroupCommit.swift`).
    var commits = CommitPipeline()

    /// Signalled when the timer may have started, stopped or moved (the refresh loop waits on it).
    let timerChanges: AsyncStream<Void>
    let timerChangesContinuation: AsyncStream<Void>.Continuation

    /// An engine on `store`, resuming its last committed state (the legacy's
    /// default state when the store is empty).
    ///
    /// - Parameters:
    ///   - broadcaster: emits an event to every client (see ``setBroadcaster(_:)``)
    public init(
        configuration: EngineConfiguration,
        store: EngineStore,
        clock: EngineClock = .system,
        logger: Logger = Logger(label: "statetee.engine"),
        broadcaster: EngineEmitter? = nil
    ) async throws(EngineError) {
        let current: StoredState?
        do {
            current = try await store.loadCurrent()
        } catch {
            throw .storage(error)
        }
        if let current {
            do {
                game = try ScorerGame(document: current.document)
            } catch {
                throw .invalidState(detail: "the stored state: \(error)")
            }
            sequence = current.sequence
        } else {
            game = ScorerGame()
            sequence = 0
        }
        self.configuration = configuration
        self.store = store
        self.clock = clock
        self.logger = logger
        self.broadcaster = broadcaster
        self.dice = configuration.dice
        self.shadow = configuration.shadow
        self.startedAt = clock.now()
        (timerChanges, timerChangesContinuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
        logger.debug(
            "Engine resumed",
            metadata: [
                "statetee.sequence": .stringConvertible(sequence),
                "statetee.phase": .string(game.state["game_phase"]?.stringValue ?? "?"),
                "statetee.shadow": .stringConvertible(shadow),
                "statetee.dice": .string(dice.kind),
            ])
    }

    /// Opens `engine.sqlite` in the configuration's data directory (creating
    /// both when needed) and resumes from it.
    public static func open(
        configuration: EngineConfiguration,
        clock: EngineClock = .system,
        logger: Logger = Logger(label: "statetee.engine")
    ) async throws(EngineError) -> ScorerEngine {
        let store: EngineStore
        do {
            store = try EngineStore.open(inDirectory: configuration.dataDirectory)
        } catch {
            throw .storage(error)
        }
        return try await ScorerEngine(configuration: configuration, store: store, clock: clock, logger: logger)
    }

    /// Sets where broadcasts go (the Socket.IO server's `broadcast`).
    public func setBroadcaster(_ broadcaster: EngineEmitter?) {
        self.broadcaster = broadcaster
        self.encodedBroadcaster = nil
    }

    /// Sets where broadcasts go as packets encoded once (a Socket.IO server's
    /// ``SocketIOServer/broadcast(_:except:)``); `broadcaster` is kept for callers that read it.
    public func setBroadcaster(_ broadcaster: EngineEmitter?, encoded: EngineEncodedEmitter?) {
        self.broadcaster = broadcaster
        self.encodedBroadcaster = encoded
    }

    /// Sends `event(payload)` to one client: encoded (the served state once per state) when it
    /// takes packets, else through its plain emitter.
    func send(_ event: String, _ payload: JSONValue, to client: EngineClient) {
        if let emitEncoded = client.emitEncoded {
            emitEncoded(emissions.packet(event, payload))
        } else {
            client.emit?(event, [payload])
        }
    }

    /// Sends `event(payload)` to every client (shadow mode aside: callers check it).
    func broadcast(_ event: String, _ payload: JSONValue) {
        if let encodedBroadcaster {
            encodedBroadcaster(emissions.packet(event, payload))
        } else {
            broadcaster?(event, [payload])
        }
    }

    // MARK: - The gate: one operation at a time, in arrival order

    /// Runs `body` after every operation that arrived before it has finished,
    /// suspensions included.
    func exclusively<T: Sendable>(_ body: () async -> T) async -> T {
        if gateBusy {
            await withCheckedContinuation { gateWaiters.append($0) }
        } else {
            gateBusy = true
        }
        defer {
            if gateWaiters.isEmpty {
                gateBusy = false
            } else {
                gateWaiters.removeFirst().resume()  // stays busy: handed over
            }
        }
        return await body()
    }

    // MARK: - Client events

    /// A client connected: the legacy sends it the served state, to it alone.
    public func connect(_ client: EngineClient) async -> EngineEventResult {
        let step = await exclusively {
            connectedClients.insert(client.id)
            let now = clock.now()
            let before = game
            let outcome = game.receivedConnect(now: now)
            return finish("connect", arguments: [], outcome: outcome, before: before, client: client, now: now)
        }
        return await completion(of: step)
    }

    /// A client went away: forget its rate-limit bucket.
    public func disconnected(clientID: String) async {
        await exclusively {
            connectedClients.remove(clientID)
            buckets[clientID] = nil
            rateLimitNotices[clientID] = nil
        }
    }

    /// One Socket.IO event exactly as received (name and argument list).
    ///
    /// Replies go to `client.emit` and broadcasts to the broadcaster, both
    /// from inside the engine, after the commit; the result repeats them
    /// and carries the ack to send.
    public func receive(_ event: String, arguments: [JSONValue], from client: EngineClient) async -> EngineEventResult {
        let step = await exclusively {
            let now = clock.now()
            if closed {
                return settled(refuseClosed(event, client: client, now: now), client: client)
            }
            if configuration.rateLimit > 0, limitsRate, !shadow, !takeToken(for: client.id, now: now) {
                return settled(rateLimited(event, client: client, now: now), client: client)
            }
            if Self.legacyDropsPacket(arguments) {
                return settled(droppedLikeTheLegacy(event, client: client, now: now), client: client)
            }
            let before = game
            var outcome = game.receivedEvent(event, arguments: arguments, now: now, dice: &dice)
            if let defect = configuration.testDefect {
                // TEST ONLY (EngineTestDefect): a deliberate divergence for the comparator's tests.
                defect.apply(event: event, arguments: arguments, before: before, game: &game, outcome: &outcome) { game in
                    game.receivedEvent(event, arguments: arguments, now: now, dice: &dice)
                }
            }
            return finish(event, arguments: arguments, outcome: outcome, before: before, client: client, now: now)
        }
        return await completion(of: step)
    }

    /// Queues the commit (when the state changed) and the emissions, which
    /// go out once every state they may show is durable (at once when it is).
    private func finish(
        _ event: String, arguments: [JSONValue], outcome: ScorerOutcome, before: ScorerGame, client: EngineClient,
        now: Double
    ) -> CommitPipeline.Step {
        eventsProcessed += 1
        var result = EngineEventResult(outcome: outcome, ackArguments: outcome.ackArguments)
        let wasRunning = before.isTimerRunning
        var ticket: Int?
        if outcome.saved || outcome.stateChanged {
            if closed {
                game = before
                return settled(refuseClosed(event, client: client, now: now), client: client)
            }
            let entry = JournalEntry(
                time: Date(timeIntervalSince1970: now), event: event, args: arguments, sessionID: client.id,
                client: client.label)
            ticket = commits.apply(entry, resultingState: game.document, before: before)
        }
        if wasRunning != game.isTimerRunning || outcome.saved {
            timerChangesContinuation.yield()
        }
        var outgoing: [CommitPipeline.Outgoing] = []
        for action in outcome.actions {
            switch action {
            case .save:
                continue
            case .broadcast(let name, let payload):
                let emission = EngineEmission(event: name, arguments: [payload])
                if shadow {
                    result.suppressedBroadcasts.append(emission)
                } else {
                    outgoing.append(.toAll(name, payload))
                    result.broadcasts.append(emission)
                }
            case .reply(let name, let payload):
                outgoing.append(.toClient(name, payload))
                result.replies.append(EngineEmission(event: name, arguments: [payload]))
            }
        }
        if let error = outcome.error {
            result.errorCode = error.code.rawValue
            log(error, client: client)
            if configuration.errorEvents {
                let payload = error.errorEventPayload(timestamp: Self.timestamp(now))
                outgoing.append(.toClient("error", payload))
                result.replies.append(EngineEmission(event: "error", arguments: [payload]))
            }
        }
        Counter(
            label: "statetee_engine_events_total",
            dimensions: [("event", Self.metricName(event)), ("result", outcome.error?.shortDescription ?? "applied")]
        ).increment()
        return deliverOrQueue(
            CommitPipeline.Delivery(event: event, now: now, client: client, ticket: ticket, outgoing: outgoing, result: result))
    }

    /// A result that touched no state: its replies (error events) go out in order with the rest.
    private func settled(_ result: EngineEventResult, client: EngineClient) -> CommitPipeline.Step {
        deliverOrQueue(
            CommitPipeline.Delivery(
                event: "", now: 0, client: client, ticket: nil,
                outgoing: result.replies.map { .toClient($0.event, $0.payload) }, result: result, failable: false))
    }

    private func log(_ error: ScorerError, client: EngineClient) {
        let metadata: Logger.Metadata = [
            "statetee.event": .string(error.event), "statetee.client": .string(client.id),
            "statetee.error.code": .string(error.code.rawValue), "statetee.error": .string(error.message),
        ]
        if error.code == .serverError {
            logger.error("Engine event failed on the stored state", metadata: metadata)
        } else if error.legacyRaised {
            logger.notice("Engine refused bad input", metadata: metadata)
        } else {
            logger.debug("Engine ignored an event", metadata: metadata)
        }
    }

    // MARK: - Refusals that never reach the game

    private func takeToken(for clientID: String, now: Double) -> Bool {
        var bucket = buckets[clientID] ?? TokenBucket(rate: configuration.rateLimit, now: now)
        let granted = bucket.take(now: now)
        buckets[clientID] = bucket
        return granted
    }

    private func rateLimited(_ event: String, client: EngineClient, now: Double) -> EngineEventResult {
        let message = "more than \(configuration.rateLimit) messages per second; '\(event)' was dropped"
        var result = EngineEventResult(errorCode: EngineErrorCode.rateLimited)
        if ScorerGame.piEvents.contains(event) {
            result.ackArguments = [["ok": false, "error": .string("\(EngineErrorCode.rateLimited): \(message)")]]
        }
        Counter(label: "statetee_engine_rate_limited_total").increment()
        // One notice (log line and error event) per client per second.
        if let last = rateLimitNotices[client.id], now - last < 1.0, now >= last { return result }
        rateLimitNotices[client.id] = now
        logger.notice(
            "Engine rate limited a client",
            metadata: [
                "statetee.event": .string(event), "statetee.client": .string(client.id),
                "statetee.rate_limit": .stringConvertible(configuration.rateLimit),
            ])
        if configuration.errorEvents {
            let payload = Self.errorPayload(
                code: EngineErrorCode.rateLimited, message: message, event: event, now: now,
                extra: ["limit_per_second": .int(configuration.rateLimit)])
            result.replies.append(EngineEmission(event: "error", arguments: [payload]))
        }
        return result
    }

    /// python-engineio's JSON decoder refuses an integer literal of more than
    /// 100 characters: the legacy drops the whole packet before any handler
    /// (no state change, no ack, nothing sent). The engine does the same.
    static func legacyDropsPacket(_ arguments: [JSONValue]) -> Bool {
        func huge(_ value: JSONValue) -> Bool {
            switch value {
            case .bigInt(let literal): literal.utf8.count > 100
            case .array(let items): items.contains(where: huge)
            case .object(let object): object.values.contains(where: huge)
            default: false
            }
        }
        return arguments.contains(where: huge)
    }

    private func droppedLikeTheLegacy(_ event: String, client: EngineClient, now: Double) -> EngineEventResult {
        let message = "an integer literal of more than 100 characters: the packet is dropped, as the legacy drops it"
        var result = EngineEventResult(errorCode: EngineErrorCode.invalidState)
        logger.notice(
            "Engine dropped a packet the legacy drops",
            metadata: ["statetee.event": .string(event), "statetee.client": .string(client.id)])
        if configuration.errorEvents {
            let payload = Self.errorPayload(code: EngineErrorCode.invalidState, message: message, event: event, now: now)
            result.replies.append(EngineEmission(event: "error", arguments: [payload]))
        }
        return result
    }

    private func refuseClosed(_ event: String, client: EngineClient, now: Double) -> EngineEventResult {
        serverError(event, client: client, now: now, reason: "the engine is shutting down")
    }

    func serverError(_ event: String, client: EngineClient, now: Double, reason: String) -> EngineEventResult {
        var result = EngineEventResult(errorCode: EngineErrorCode.serverError)
        if ScorerGame.piEvents.contains(event) {
            result.ackArguments = [["ok": false, "error": .string("\(EngineErrorCode.serverError): \(reason)")]]
        }
        if configuration.errorEvents {
            let payload = Self.errorPayload(code: EngineErrorCode.serverError, message: reason, event: event, now: now)
            result.replies.append(EngineEmission(event: "error", arguments: [payload]))
        }
        return result
    }

    // MARK: - Helpers

    static func errorPayload(code: String, message: String, event: String, now: Double, extra: JSONObject = [:])
        -> JSONValue
    {
        var details: JSONObject = ["event": .string(event)]
        for (key, value) in extra { details[key] = value }
        return [
            "code": .string(code), "message": .string(message), "details": .object(details),
            "timestamp": .string(timestamp(now)),
        ]
    }

    /// ISO 8601 UTC with milliseconds, e.g. `2026-11-27T19:42:31.123Z`.
    static func timestamp(_ now: Double) -> String {
        let date = Date(timeIntervalSince1970: now)
        return date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }

    /// The event name as a metric label: known names, else `other` (clients choose names).
    static func metricName(_ event: String) -> String {
        if event == "connect" || ScorerGame.piEvents.contains(event) || ScorerGame.phoneEvents.contains(event) {
            return event
        }
        return "other"
    }
}
