import AsyncHTTPClient
import Foundation
import Hummingbird
import JSONValue
import Logging
import Metrics
import NIOCore
import ServiceLifecycle
import SocketIOClient
import SocketIOProtocol
import SocketIOServer
import Synchronization

/// The tee proxy: terminates Engine.IO toward clients, keeps two upstream legs
/// per client session, relays the primary, mirrors to the shadow, and flips the
/// roles on command (see ``switchover(to:force:actor:)``).
///
/// Run it as a `Service` (mirror consumer, upstream monitors, client sessions)
/// together with ``clientApplication(onListening:)`` and an ``AdminAPI`` in one
/// `ServiceGroup`. The durable roles are read by ``init(configuration:roleStore:observer:engine:logger:)``,
/// before any client can connect.
public final class TeeProxy: Service, Sendable {
    public let configuration: TeeConfiguration
    let logger: Logger
    let roleStore: any RoleStore
    let observer: any TeeObserver
    let engine: (any InProcessEngine)?
    let httpClient: HTTPClient
    let engineIO: EngineIOServer
    let mirrorQueue: Mirror
    private let monitors: [UpstreamMonitor]
    private let registry: Mutex<Registry>
    let counters = Counters()
    let metrics = TeeMetrics()
    /// Per upstream, the events its legs decoded lately: one broadcast is parsed once, not once a client.
    private let eventCaches = [SocketIOEventCache(), SocketIOEventCache()]
    /// The primary's messages relayed lately, their frames encoded: one broadcast is encoded
    /// once for the clients, not once a client.
    let relayedMessages = EngineIOMessageCache()
    private let switchoverLock = Mutex(false)

    struct Registry: Sendable {
        var sessions: [String: ProxySession] = [:]
        var primary: UpstreamID
        var holding = false
        var machine: Switchover.StateMachine<ContinuousClock>
        var lastSwitchover: SwitchoverOutcome?
    }

    /// Reads the durable roles, then sets everything up (nothing runs before ``run()``).
    public init(
        configuration: TeeConfiguration,
        roleStore: any RoleStore,
        observer: any TeeObserver = NullObserver(),
        engine: (any InProcessEngine)? = nil,
        logger: Logger = Logger(label: "statetee.tee")
    ) async throws {
        if configuration.legacy == .embedded && engine == nil || configuration.engine == .embedded && engine == nil {
            throw TeeError.embeddedEngineMissing
        }
        self.configuration = configuration
        self.roleStore = roleStore
        self.observer = observer
        self.engine = engine
        self.logger = logger
        var httpConfiguration = HTTPClient.Configuration()
        httpConfiguration.redirectConfiguration = .disallow
        httpConfiguration.decompression = .disabled
        // A refused connection answers 502 at once, as a client without the proxy would be refused at once.
        httpConfiguration.connectionPool.retryConnectionEstablishment = false
        httpConfiguration.timeout.connect = .seconds(5)
        let httpClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: httpConfiguration)
        self.httpClient = httpClient
        let primary: UpstreamID
        do {
            primary = try await roleStore.primary()
        } catch {
            try? await httpClient.shutdown()
            throw TeeError.roleStore(String(describing: error))
        }
        registry = Mutex(Registry(primary: primary, machine: .init(primary: primary, drainTimeout: configuration.drainTimeout)))
        let mirror = Mirror(capacity: configuration.mirrorCapacity)
        mirrorQueue = mirror

        let healthSink = HealthSink()
        monitors = UpstreamID.allCases.map { upstream in
            let endpoint = configuration.endpoint(of: upstream)
            var control: UpstreamControl?
            if case .url(let url) = endpoint, upstream == .engine, let token = configuration.engineControlToken {
                control = UpstreamControl(baseURL: url, token: token, httpClient: httpClient)
            }
            return UpstreamMonitor(
                upstream: upstream, endpoint: endpoint, engine: endpoint == .embedded ? engine : nil, control: control,
                probeInterval: configuration.probeInterval, probeTimeout: configuration.probeTimeout,
                httpClient: httpClient, logger: logger, currentSequence: { mirror.upcomingSequence },
                onHealthChange: { await healthSink.report($0, $1) })
        }
        var engineIOConfiguration = EngineIOConfiguration(path: "/socket.io/")
        engineIOConfiguration = engineIOConfiguration.with(
            pingInterval: configuration.pingInterval, pingTimeout: configuration.pingTimeout)
        let sessionSink = SessionSink()
        engineIO = EngineIOServer(configuration: engineIOConfiguration, logger: logger) { connection in
            // Set below, before the server runs.
            sessionSink.proxy!.sessionOpened(connection)
        }
        sessionSink.proxy = self
        healthSink.proxy = self
        logger.info(
            "Proxy roles loaded",
            metadata: ["statetee.primary": .string(primary.rawValue), "statetee.shadow": .string(primary.other.rawValue)])
    }

    // MARK: - Running

    public func run() async throws {
        let primary = self.primary
        await setRole(of: primary, primary: true)
        await setRole(of: primary.other, primary: false)
        await withDiscardingTaskGroup { group in
            group.addTask { await self.runMirror() }
            for monitor in monitors { group.addTask { await monitor.run() } }
            group.addTask { try? await self.engineIO.run() }
            try? await gracefulShutdown()
            logger.debug("Proxy shutting down")
            engineIO.shutdown()
            mirrorQueue.finish()
            for monitor in monitors { await monitor.stop() }
            group.cancelAll()
        }
        try? await httpClient.shutdown()
    }

    /// The server clients talk to: Engine.IO at `/socket.io/` (both transports), everything
    /// else passed through to the current primary. On graceful shutdown it closes every
    /// client session first (a pending long-poll is answered at once), then stops listening.
    public func clientApplication(onListening: @escaping @Sendable (Int) async -> Void = { _ in }) -> some Service {
        let router = Router()
        router.add(middleware: EngineIOMiddleware(engineIO))
        router.add(middleware: PassThroughMiddleware(proxy: self))
        let application = Application(
            router: router,
            server: .engineIO([engineIO]),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? 0) },
            logger: logger
        )
        return ClientServer(application: application, engineIO: engineIO)
    }

    /// (Its async frame stays in the session task's allocator for the session's life: the
    /// bookkeeping is done in synchronous helpers.)
    /// A client's session opened: its handler (which runs it and reports its close).
    @inline(never)
    func sessionOpened(_ connection: EngineIOConnection) -> ProxySession {
        let session = registry.withLock { registry in
            let session = ProxySession(connection: connection, proxy: self, primary: registry.primary, holding: registry.holding)
            registry.sessions[session.id] = session
            return session
        }
        counters.sessions.add(1, ordering: .relaxed)
        metrics.sessions.increment()
        logger.debug("Client session opened", metadata: ["statetee.session": .string(session.id)])
        return session
    }

    @inline(never)
    func sessionClosed(_ session: ProxySession) {
        _ = registry.withLock { $0.sessions.removeValue(forKey: session.id) }
        counters.sessions.subtract(1, ordering: .relaxed)
        metrics.sessions.decrement()
        logger.debug("Client session closed", metadata: ["statetee.session": .string(session.id)])
    }

    /// A leg to `upstream` for a client that just connected. The shadow's leg connects at the
    /// client's place in the mirror order (``ShadowLegGate``); the primary's at once.
    func makeLeg(_ upstream: UpstreamID, auth: JSONValue?) -> any UpstreamLeg {
        let leg: any UpstreamLeg
        switch configuration.endpoint(of: upstream) {
        case .embedded:
            leg = EmbeddedLeg(engine: engine!, auth: auth)
        case .url(let url):
            var legLogger = logger
            legLogger[metadataKey: "statetee.leg"] = .string(upstream.rawValue)
            leg = SocketLeg(
                url: url, auth: auth, reconnect: configuration.legReconnect,
                connectTimeout: configuration.legConnectTimeout, eventCache: eventCache(upstream),
                httpClient: httpClient, logger: legLogger)
        }
        guard configuration.orderedShadowConnects, upstream != primary else { return leg }
        let gate = ShadowLegGate()
        if !mirrorQueue.enqueueControl(.openLeg(gate)) { gate.open() }
        return GatedLeg(inner: leg, gate: gate)
    }

    var primary: UpstreamID { registry.withLock { $0.primary } }

    /// The decoded-event cache shared by the legs to `upstream`.
    func eventCache(_ upstream: UpstreamID) -> SocketIOEventCache {
        eventCaches[upstream == .legacy ? 0 : 1]
    }

    func monitor(_ upstream: UpstreamID) -> UpstreamMonitor {
        monitors[upstream == .legacy ? 0 : 1]
    }

    var sessions: [ProxySession] { registry.withLock { Array($0.sessions.values) } }

    // MARK: - Traffic reports (from sessions)

    /// Queues a copy of a client event for the shadow (after it went to the primary); returns its sequence.
    @discardableResult
    func mirror(_ packet: SocketIOPacket, from session: ProxySession) -> Int64 {
        if packet.id == nil { counters.unackedEventSent() }
        let offer = mirrorQueue.offer(.packet(session, packet))
        let queued: Bool
        switch offer {
        case .queued: queued = true
        case .dropped: queued = false
        }
        counters.mirrored.add(1, ordering: .relaxed)
        metrics.mirrored.increment()
        if !queued { metrics.dropped.increment() }
        observer.mirrored(
            ClientEvent(sequence: offer.sequence, session: session.id, packet: packet, receivedAt: Date(), queued: queued))
        return offer.sequence
    }

    /// The client left: close its shadow leg once the mirror has delivered everything before.
    func mirrorClose(_ session: ProxySession) {
        if !mirrorQueue.enqueueControl(.sessionClosed(session)) {
            session.mirrorFlushed()  // shutting down: nothing more will be mirrored
        }
    }

    func upstreamOutput(
        _ packet: SocketIOPacket, upstream: UpstreamID, role: UpstreamRole, session: String, answersSequence: Int64?
    ) {
        if role == .primary {
            counters.addRelayed(upstream)
            metrics.relayed(upstream).increment()
        } else {
            counters.suppressed.add(1, ordering: .relaxed)
            metrics.suppressed.increment()
        }
        observer.output(
            UpstreamOutput(
                upstream: upstream, role: role, session: session, packet: packet, receivedAt: Date(),
                answersSequence: answersSequence))
    }

    func legConnected(_ upstream: UpstreamID, role: UpstreamRole, session: String) {
        logger.trace(
            "Leg connected",
            metadata: ["statetee.session": .string(session), "statetee.leg": .string(upstream.rawValue)])
    }

    func shadowLegLost(session: String, reason: String) {
        counters.shadowLegFailures.add(1, ordering: .relaxed)
        logger.debug(
            "Shadow leg lost", metadata: ["statetee.session": .string(session), "statetee.reason": .string(reason)])
    }

    func healthChanged(_ upstream: UpstreamID, _ health: UpstreamMonitor.Health) async {
        metrics.healthy(upstream).record(health.isHealthy ? 1 : 0)
        guard upstream == primary.other else { return }
        observer.shadowHealthChanged(healthy: health.isHealthy, reason: health.reason ?? health.name)
        // Unreachable: copies sent since the shadow's last sign of life may never have been
        // processed, a gap. (Unresponsive but connected: they wait in its connections.)
        if case .degraded = health, let confirmed = monitor(upstream).confirmedSequence {
            let upcoming = mirrorQueue.upcomingSequence
            if confirmed < upcoming {
                reportGap(SequenceGap(fromSequence: confirmed, toSequence: upcoming - 1, count: Int(upcoming - confirmed)))
            }
        }
    }

    // MARK: - Mirror consumer

    private func runMirror() async {
        var openGap: SequenceGap?
        while let entry = await mirrorQueue.next() {
            switch entry {
            case .gap(let gap):
                if let pending = openGap {
                    reportGap(pending)
                    openGap = nil
                }
                reportGap(gap)
            case .control(.sessionClosed(let session)):
                // The client left: its shadow leg may close, everything the client sent was delivered.
                session.mirrorFlushed()
            case .control(.openLeg(let gate)):
                // A client connected after everything before was delivered: its shadow leg
                // connects now, and gets everything newer (a failing shadow is not waited for).
                gate.open()
                // Bounded short: the mirror must not stall behind one slow connect (the
                // primary's clients never wait for it, but the shadow would fall behind).
                if !monitor(primary.other).health.isFailing {
                    await gate.waitUntilSettled(timeout: min(configuration.legConnectTimeout, .milliseconds(250)))
                }
            case .control(.shadowWrite(let request)):
                // Every event up to the request's was delivered; newer ones wait behind it.
                await request.perform()
            case .control(.packet):
                break
            case .event(let sequence, .packet(let session, let packet)):
                // An unreachable shadow (connection lost or refused, talking garbage) gets
                // nothing: the copy is counted as lost instead of piling up in a leg that cannot
                // deliver it. An unresponsive one (slow, hung) still gets it, as long as its
                // leg's connection takes it (see ProxySession.deliverMirror).
                let delivery: ProxySession.MirrorDelivery
                if case .degraded = monitor(session.shadowUpstream).health {
                    delivery = .lost
                } else {
                    delivery = await session.deliverMirror(packet, sequence: sequence)
                }
                if packet.id == nil { counters.unackedEventSent() }
                if delivery == .sent { await observer.deliveredToShadow(sequence: sequence, packet: packet) }
                if delivery == .lost {
                    if var gap = openGap {
                        gap.toSequence = sequence
                        gap.count += 1
                        openGap = gap
                    } else {
                        openGap = SequenceGap(fromSequence: sequence, toSequence: sequence, count: 1)
                    }
                } else if let pending = openGap {
                    reportGap(pending)
                    openGap = nil
                }
            case .event(_, .sessionClosed), .event(_, .openLeg), .event(_, .shadowWrite):
                break  // control items are never offered as events
            }
            if let pending = openGap, mirrorQueue.depth == 0 {
                reportGap(pending)
                openGap = nil
            }
            metrics.queueDepth.record(mirrorQueue.depth)
            mirrorQueue.done()
        }
        if let openGap { reportGap(openGap) }
    }

    /// Mirror copies a session's shadow leg never got (it was lost, refused or closed before it
    /// connected): reported as gaps, one per run of consecutive sequences.
    func shadowCopiesLost(_ sequences: [Int64], session: String) {
        guard !sequences.isEmpty else { return }
        logger.debug(
            "Mirror copies lost with a shadow leg that did not connect",
            metadata: ["statetee.session": .string(session), "statetee.count": "\(sequences.count)"])
        var run: SequenceGap?
        for sequence in sequences.sorted() {
            if var current = run, current.toSequence + 1 == sequence {
                current.toSequence = sequence
                current.count += 1
                run = current
                continue
            }
            if let run { reportGap(run) }
            run = SequenceGap(fromSequence: sequence, toSequence: sequence, count: 1)
        }
        if let run { reportGap(run) }
    }

    private func reportGap(_ gap: SequenceGap) {
        counters.gaps.add(1, ordering: .relaxed)
        counters.lostEvents.add(gap.count, ordering: .relaxed)
        metrics.gaps.increment()
        logger.debug(
            "Mirror gap",
            metadata: ["statetee.from": "\(gap.fromSequence)", "statetee.to": "\(gap.toSequence)", "statetee.count": "\(gap.count)"])
        // The comparator records it (and resyncs the shadow).
        observer.gap(gap)
    }

    // MARK: - Registry access for the switchover

    func withRegistry<R: Sendable>(_ body: (inout Registry) -> R) -> R {
        registry.withLock { body(&$0) }
    }
}

/// The client-facing HTTP server, closing the Engine.IO sessions as soon as its graceful
/// shutdown starts (the HTTP server would otherwise wait for pending long-polls).
struct ClientServer<App: ApplicationProtocol>: Service {
    let application: App
    let engineIO: EngineIOServer

    func run() async throws {
        try await withGracefulShutdownHandler {
            try await application.run()
        } onGracefulShutdown: {
            engineIO.shutdown()
        }
    }
}

/// Lets the Engine.IO handler reach the proxy created after it.
private final class SessionSink: Sendable {
    private let box = Mutex<TeeProxy?>(nil)
    var proxy: TeeProxy? {
        get { box.withLock { $0 } }
        set { box.withLock { $0 = newValue } }
    }
}

/// Lets the monitors report to the proxy created after them.
private final class HealthSink: Sendable {
    private let box = Mutex<TeeProxy?>(nil)
    var proxy: TeeProxy? {
        get { box.withLock { $0 } }
        set { box.withLock { $0 = newValue } }
    }

    func report(_ upstream: UpstreamID, _ health: UpstreamMonitor.Health) async {
        await proxy?.healthChanged(upstream, health)
    }
}

/// Plain counters for `/status`.
final class Counters: Sendable {
    let sessions = Atomic<Int>(0)
    let mirrored = Atomic<Int>(0)
    let suppressed = Atomic<Int>(0)
    let relayedLegacy = Atomic<Int>(0)
    let relayedEngine = Atomic<Int>(0)
    let gaps = Atomic<Int>(0)
    let lostEvents = Atomic<Int>(0)
    let shadowLegFailures = Atomic<Int>(0)
    /// When an event without an ack id last went to an upstream (forwarded or mirrored), by any
    /// session, the ones that have left included: the drain cannot tell when it was applied.
    let lastUnackedEvent = Mutex<ContinuousClock.Instant?>(nil)

    func unackedEventSent() {
        lastUnackedEvent.withLock { $0 = ContinuousClock.now }
    }

    var lastUnackedEventAt: ContinuousClock.Instant? { lastUnackedEvent.withLock { $0 } }

    func addRelayed(_ upstream: UpstreamID) {
        if upstream == .legacy {
            relayedLegacy.add(1, ordering: .relaxed)
        } else {
            relayedEngine.add(1, ordering: .relaxed)
        }
    }

    func relayed(_ upstream: UpstreamID) -> Int {
        upstream == .legacy ? relayedLegacy.load(ordering: .relaxed) : relayedEngine.load(ordering: .relaxed)
    }
}
