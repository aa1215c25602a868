import Foundation
import JSONValue
import Logging
import SocketIOProtocol
import SocketIOServer
import Synchronization

/// One client's Engine.IO session at the proxy and its two upstream legs.
///
/// The client's packets go to the primary leg first, then a copy goes into
/// the global mirror queue; the primary's packets are relayed to the client,
/// the shadow's are only reported. Which leg is primary is per session state,
/// flipped by the switchover while the session holds the client's frames.
///
/// The client's packets are decoded as the server reads them (``received(_:)``, on the
/// transport's task) and queued for the session's task (``run()``), which forwards them in
/// order: one task forwards and mirrors a session's packets, whatever the switchover does.
final class ProxySession: EngineIOSessionHandler {
    enum LegPhase: Sendable, Equatable {
        case idle, connecting, up, down
    }

    struct Slot: Sendable {
        var leg: (any UpstreamLeg)?
        var phase = LegPhase.idle
        var acks = AckMap()
        /// Acks that came back before their event's sequence was known (a fast primary answers
        /// before the copy is mirrored), by leg id: reported once the sequence is set.
        var unsequencedAcks: [Int: SocketIOPacket] = [:]
        /// Mirror copies (and their sequences) waiting for the shadow leg's first connect.
        var pending: [(packet: SocketIOPacket, sequence: Int64)] = []

        /// Drops the waiting copies (the leg will not get them); returns their sequences.
        mutating func dropPending() -> [Int64] {
            defer { pending = [] }
            return pending.map(\.sequence)
        }
    }

    struct State: Sendable {
        var primary: UpstreamID
        var legacy = Slot()
        var engine = Slot()
        var holding: Bool
        var held: [SocketIOPacket] = []
        var inFlight = 0
        var connectRequested = false
        var clientConnected = false
        var closed = false
        var releaseWaiters: [CheckedContinuation<Void, Never>] = []
        var mirrorFlushed = false
        var flushWaiter: CheckedContinuation<Void, Never>?
        var ackWaiter: CheckedContinuation<Void, Never>?
        /// Set while a switchover lets the shadow catch up: the client's events wait for a token.
        var pacer: ShadowPacer?
        /// When an event without an ack id last went to an upstream (nothing tells when it was applied).
        var lastUnackedEvent: ContinuousClock.Instant?

        var unsequencedCount: Int { legacy.unsequencedAcks.count + engine.unsequencedAcks.count }

        subscript(_ upstream: UpstreamID) -> Slot {
            get { upstream == .legacy ? legacy : engine }
            set {
                if upstream == .legacy { legacy = newValue } else { engine = newValue }
            }
        }
    }

    /// Mirror copies kept while a shadow leg is still connecting.
    static let pendingLimit = 64

    /// Work for the session's task, in order.
    private enum Job: Sendable {
        case startLegs([(any UpstreamLeg, LegReporter)])
        case packet(SocketIOPacket)
    }

    let id: String
    let connection: EngineIOConnection
    private let proxy: TeeProxy
    private let state: Mutex<State>
    private let jobs: AsyncStream<Job>.Continuation
    private let jobStream: AsyncStream<Job>
    /// The client packets' decoder; stopped once the client broke the protocol or disconnected.
    private let decoder = InboundPacketDecoder()

    init(connection: EngineIOConnection, proxy: TeeProxy, primary: UpstreamID, holding: Bool) {
        self.id = connection.id
        self.connection = connection
        self.proxy = proxy
        self.state = Mutex(State(primary: primary, holding: holding))
        (jobStream, jobs) = AsyncStream.makeStream()
    }

    // MARK: - Client side

    /// A message from the client (on the transport's task).
    func received(_ payload: EngineIOPacket.Payload) {
        guard case .packet(let packet) = decode(payload) else { return }
        switch packet.kind {
        case .connect:
            let legs = startLegs(auth: packet.data)
            if !legs.isEmpty { jobs.yield(.startLegs(legs)) }
        case .disconnect:
            decoder.stop()
            connection.close(reason: .clientDisconnect)
        case .event, .binaryEvent, .ack, .binaryAck:
            jobs.yield(.packet(packet))
        case .connectError:
            break
        }
    }

    /// The client's session closed: the session's task finishes its queue, then closes.
    func closed() {
        jobs.finish()
    }

    /// The session's task: what was queued, in order, with the legs as child tasks; then the close.
    /// (The async frames here stay in the session task's allocator for the session's life:
    /// what does not wait is done in synchronous helpers, the close in its own function.)
    func run() async {
        await withDiscardingTaskGroup { group in
            for await job in jobStream {
                switch job {
                case .startLegs(let legs):
                    for (leg, reporter) in legs {
                        group.addTask { await leg.run(reporter) }
                    }
                case .packet(let packet):
                    await clientPacket(packet)
                }
            }
            await closeSession()
        }
        proxy.sessionClosed(self)
    }

    private enum Decoded {
        case packet(SocketIOPacket)
        /// Incomplete (attachments to come), for another namespace, or after the end.
        case skip
    }

    /// A client packet for `/`; a malformed one closes the session.
    @inline(never)
    private func decode(_ payload: EngineIOPacket.Payload) -> Decoded {
        let packet: SocketIOPacket
        do throws(ProtocolError) {
            guard let complete = try decoder.decode(payload) else { return .skip }
            packet = complete
        } catch {
            proxy.logger.debug(
                "Client sent a malformed packet",
                metadata: ["statetee.session": .string(id), "statetee.error": .string(String(describing: error))])
            connection.close(reason: .parseError)
            return .skip
        }
        if packet.namespace != "/" {
            if packet.kind == .connect {
                connection.send(SocketIOCodec.encode(.connectError(namespace: packet.namespace, message: "Invalid namespace")))
            }
            return .skip
        }
        return .packet(packet)
    }

    /// The legs to run for the client's CONNECT (none for a repeated one, or once closed).
    @inline(never)
    private func startLegs(auth: JSONValue?) -> [(any UpstreamLeg, LegReporter)] {
        let start = state.withLock { state -> Bool in
            guard !state.connectRequested else { return false }
            state.connectRequested = true
            state.legacy.phase = .connecting
            state.engine.phase = .connecting
            return true
        }
        guard start else { return [] }
        let primary = state.withLock { $0.primary }
        var legs: [(any UpstreamLeg, LegReporter)] = []
        for upstream in [primary, primary.other] {
            let leg = proxy.makeLeg(upstream, auth: auth)
            let attached = state.withLock { state -> Bool in
                guard !state.closed else { return false }
                state[upstream].leg = leg
                return true
            }
            guard attached else { break }
            let reporter = LegReporter(
                event: { event in await self.legEvent(event, from: upstream) },
                packet: { packet, text in self.legPacket(packet, text: text, from: upstream) })
            legs.append((leg, reporter))
        }
        return legs
    }

    /// The client left: its held frames, then the primary leg, then the shadow leg once the
    /// mirror delivered what the client sent.
    @inline(never)
    private func closeSession() async {
        // Frames the client sent during a switchover still go to the new primary, as they
        // would have reached the server without the proxy.
        await waitUntilReleased()
        // The primary leg now; the shadow leg once the mirror delivered what the client sent.
        let primaryLeg = state.withLock { state -> (any UpstreamLeg)? in
            state.closed = true
            return state[state.primary].leg
        }
        await primaryLeg?.close()
        // The shadow leg: once the mirror delivered everything the client sent, and the
        // shadow answered the acks it owes (bounded), so the comparator sees its last outputs.
        proxy.mirrorClose(self)
        await waitForMirrorFlush()
        // A shadow leg still connecting gets the copies waiting for it first: the bound is at
        // least the time its connect is allowed (a slow shadow's handshake may take that long).
        let bound = max(.seconds(2), proxy.configuration.legConnectTimeout)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.waitForShadowAcks() }
            group.addTask { try? await Task.sleep(for: bound) }
            await group.next()
            group.cancelAll()
        }
        let unsent = state.withLock { state in state[state.primary.other].dropPending() }
        proxy.shadowCopiesLost(unsent, session: id)
        await closeLegs()
    }

    /// The mirror consumer reached this session's close marker.
    func mirrorFlushed() {
        let waiter = state.withLock { state in
            state.mirrorFlushed = true
            defer { state.flushWaiter = nil }
            return state.flushWaiter
        }
        waiter?.resume()
    }

    private func waitForMirrorFlush() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { state -> Bool in
                guard !state.mirrorFlushed else { return true }
                state.flushWaiter = continuation
                return false
            }
            if now { continuation.resume() }
        }
    }

    /// The shadow owes nothing: no ack on a connected leg, no copy waiting for a connecting one.
    private static func shadowSettled(_ state: State) -> Bool {
        let shadow = state[state.primary.other]
        switch shadow.phase {
        case .up: return shadow.acks.pendingCount == 0
        case .idle, .connecting: return shadow.pending.isEmpty
        case .down: return true
        }
    }

    private func waitForShadowAcks() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLock { state -> Bool in
                    if Self.shadowSettled(state) || Task.isCancelled { return true }
                    state.ackWaiter = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state in
                defer { state.ackWaiter = nil }
                return state.ackWaiter
            }
            waiter?.resume()
        }
    }

    /// Resumes the close when the shadow owes nothing any more.
    private func checkAckWaiter() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard state.ackWaiter != nil, Self.shadowSettled(state) else { return nil }
            defer { state.ackWaiter = nil }
            return state.ackWaiter
        }
        waiter?.resume()
    }

    /// Closes every leg still open.
    func closeLegs() async {
        let legs = state.withLock { state -> [any UpstreamLeg] in
            state.closed = true
            return [state.legacy.leg, state.engine.leg].compactMap { $0 }
        }
        for leg in legs { await leg.close() }
    }

    private enum Plan {
        case held
        case drop
        case send(any UpstreamLeg, SocketIOPacket, UpstreamID)
    }

    /// An event or ack from the client: to the primary now (or held during a switchover), then mirrored.
    func clientPacket(_ packet: SocketIOPacket) async {
        if packet.isEvent, let pacer = state.withLock({ $0.pacer }) { await pacer.admit() }
        let plan = state.withLock { state -> Plan in
            if state.holding {
                state.held.append(packet)
                return .held
            }
            return Self.planForward(packet, &state)
        }
        await execute(plan, packet)
    }

    private static func planForward(_ packet: SocketIOPacket, _ state: inout State) -> Plan {
        let primary = state.primary
        guard let leg = state[primary].leg, state[primary].phase == .up else { return .drop }
        var wire = packet
        if packet.isEvent {
            if let clientID = packet.id {
                wire.id = state[primary].acks.outbound(clientID: clientID)
            } else {
                state.lastUnackedEvent = ContinuousClock.now
            }
        }
        state.inFlight += 1
        return .send(leg, wire, primary)
    }

    private func execute(_ plan: Plan, _ packet: SocketIOPacket) async {
        guard case .send(let leg, let wire, let upstream) = plan else { return }
        sent(await leg.send(wire), packet, wire: wire, to: upstream)
    }

    /// A client packet went to the primary (`sent`: the leg took it): the event's mirror copy,
    /// then an ack the primary answered before the copy's sequence was known.
    private func sent(_ sent: Bool, _ packet: SocketIOPacket, wire: SocketIOPacket, to upstream: UpstreamID) {
        let sequence = sent && packet.isEvent ? proxy.mirror(packet, from: self) : nil
        let early = state.withLock { state -> (SocketIOPacket, UpstreamRole)? in
            state.inFlight -= 1
            guard let sequence, let legID = wire.id else { return nil }
            state[upstream].acks.setSequence(sequence, forLegID: legID)
            guard let ack = state[upstream].unsequencedAcks.removeValue(forKey: legID) else { return nil }
            return (ack, upstream == state.primary ? .primary : .shadow)
        }
        if let early, let sequence {
            proxy.upstreamOutput(early.0, upstream: upstream, role: early.1, session: id, answersSequence: sequence)
        }
    }

    // MARK: - Upstream side

    /// What a leg reports. (Each case in its own function: the async frame of this one, kept in
    /// the leg task's allocator for the session's life, stays small.)
    func legEvent(_ event: LegEvent, from upstream: UpstreamID) async {
        if case .connected(let sid) = event {
            await legConnected(sid: sid, from: upstream)
        } else {
            legChanged(event, from: upstream)
        }
    }

    @inline(never)
    private func legConnected(sid: String, from upstream: UpstreamID) async {
        let (answer, role) = state.withLock { state -> (SocketIOPacket?, UpstreamRole) in
            let role: UpstreamRole = upstream == state.primary ? .primary : .shadow
            var answer: SocketIOPacket?
            if role == .primary, !state.clientConnected {
                state.clientConnected = true
                answer = .connect(data: ["sid": .string(sid)])
            }
            return (answer, role)
        }
        if let answer { connection.send(SocketIOCodec.encode(answer)) }
        // Mirror copies that waited for this leg go first, in order; the leg is `up`
        // (taking new copies directly) only once none is left.
        while true {
            let batch = state.withLock { state -> (any UpstreamLeg, [SocketIOPacket])? in
                guard let leg = state[upstream].leg, !state[upstream].pending.isEmpty else {
                    state[upstream].phase = .up
                    return nil
                }
                var batch: [SocketIOPacket] = []
                for (packet, sequence) in state[upstream].pending {
                    var wire = packet
                    if let clientID = packet.id {
                        wire.id = state[upstream].acks.outbound(clientID: clientID, sequence: sequence)
                    } else {
                        state.lastUnackedEvent = ContinuousClock.now
                    }
                    batch.append(wire)
                }
                state[upstream].pending = []
                return (leg, batch)
            }
            guard let (leg, packets) = batch else { break }
            proxy.logger.debug(
                "Leg connected: sending the mirror copies that waited for it",
                metadata: ["statetee.session": .string(id), "statetee.leg": .string(upstream.rawValue), "statetee.count": "\(packets.count)"])
            for packet in packets { _ = await leg.send(packet) }
        }
        checkAckWaiter()  // a close may wait for the copies just sent
        proxy.legConnected(upstream, role: role, session: id)
    }

    @inline(never)
    private func legChanged(_ event: LegEvent, from upstream: UpstreamID) {
        switch event {
        case .connected:
            break
        case .packet(let packet, let text):
            legPacket(packet, text: text, from: upstream)
        case .lost(let reason), .ended(let reason):
            let role = lose(upstream)
            let closed = state.withLock { state in
                if case .ended = event { state[upstream].leg = nil }
                return state.closed
            }
            if closed { return }
            if role == .primary {
                proxy.logger.debug(
                    "Primary leg lost; closing the client session",
                    metadata: ["statetee.session": .string(id), "statetee.reason": .string(reason)])
                connection.close(reason: .transportClose)
            } else {
                proxy.shadowLegLost(session: id, reason: reason)
            }
        case .retrying:
            let role = lose(upstream)
            let unanswered = state.withLock { !$0.clientConnected }
            if role == .primary, unanswered {
                // Without the proxy the client could not have connected either: let it retry.
                connection.close(reason: .transportClose)
            }
        case .refused(let data):
            let (role, answer, unsent) = state.withLock { state -> (UpstreamRole, Bool, [Int64]) in
                state[upstream].phase = .down
                let role: UpstreamRole = upstream == state.primary ? .primary : .shadow
                return (role, role == .primary && !state.clientConnected, state[upstream].dropPending())
            }
            proxy.shadowCopiesLost(unsent, session: id)
            checkAckWaiter()
            if answer {
                connection.send(SocketIOCodec.encode(SocketIOPacket(kind: .connectError, data: data)))
            } else if role == .shadow {
                proxy.shadowLegLost(session: id, reason: "connection refused")
            }
        }
    }

    /// An event or ack from an upstream: relayed to the client when it is the primary's, reported
    /// either way. Never waits (the embedded engine's leg calls it from inside the engine).
    /// An event is relayed as `text`, the bytes the upstream sent, when the leg has them; an
    /// ack is encoded again with the client's ack id.
    func legPacket(_ packet: SocketIOPacket, text: String?, from upstream: UpstreamID) {
        var packet = packet
        let answered = state.withLock { state -> (UpstreamRole, Int64?, report: Bool)? in
            let role: UpstreamRole = upstream == state.primary ? .primary : .shadow
            guard packet.isAck else { return (role, nil, true) }
            guard let legID = packet.id, let entry = state[upstream].acks.inboundEntry(legID: legID) else { return nil }
            packet.id = entry.clientID
            if entry.sequence == nil, state.inFlight > 0, state.unsequencedCount < Self.pendingLimit {
                // Its event is still being mirrored: report the ack with the sequence then.
                state[upstream].unsequencedAcks[legID] = packet
                return (role, nil, false)
            }
            return (role, entry.sequence, true)
        }
        guard let (role, sequence, report) = answered else { return }
        if packet.isAck { checkAckWaiter() }
        if role == .primary {
            if let text, !packet.isAck {
                connection.send(proxy.relayedMessages.message(text))
            } else {
                connection.send(SocketIOCodec.encode(packet))
            }
        }
        if report {
            proxy.upstreamOutput(packet, upstream: upstream, role: role, session: id, answersSequence: sequence)
        }
    }

    /// Marks a leg down and forgets its pending acks; returns its role. Mirror copies that were
    /// waiting for it to connect are lost: reported as a gap (the comparator resyncs).
    private func lose(_ upstream: UpstreamID) -> UpstreamRole {
        let (role, unsent) = state.withLock { state in
            state[upstream].phase = .down
            _ = state[upstream].acks.reset()
            return (upstream == state.primary ? UpstreamRole.primary : .shadow, state[upstream].dropPending())
        }
        proxy.shadowCopiesLost(unsent, session: id)
        checkAckWaiter()
        return role
    }

    // MARK: - Mirror

    enum MirrorDelivery: Equatable {
        case sent, buffered, lost
    }

    /// Delivers one mirrored event to this session's shadow leg.
    func deliverMirror(_ packet: SocketIOPacket, sequence: Int64) async -> MirrorDelivery {
        enum Step { case buffered, lost, send(any UpstreamLeg, SocketIOPacket, UpstreamID) }
        let step = state.withLock { state -> Step in
            let shadow = state.primary.other
            switch state[shadow].phase {
            case .idle, .connecting:
                guard state[shadow].pending.count < Self.pendingLimit else { return .lost }
                state[shadow].pending.append((packet, sequence))
                return .buffered
            case .down:
                return .lost
            case .up:
                guard let leg = state[shadow].leg else { return .lost }
                var wire = packet
                if let clientID = packet.id {
                    wire.id = state[shadow].acks.outbound(clientID: clientID, sequence: sequence)
                } else {
                    state.lastUnackedEvent = ContinuousClock.now
                }
                return .send(leg, wire, shadow)
            }
        }
        switch step {
        case .buffered: return .buffered
        case .lost: return .lost
        case .send(let leg, let wire, let shadow):
            if await leg.sendCopy(wire) { return .sent }
            // Not taken (the leg went down, or its connection is backed up): no answer will come.
            if let legID = wire.id {
                state.withLock { state in _ = state[shadow].acks.inboundEntry(legID: legID) }
                checkAckWaiter()
            }
            return .lost
        }
    }

    // MARK: - Switchover

    /// Starts buffering the client's frames (an event waiting for the pacer is held once let through).
    func hold() {
        state.withLock { $0.holding = true }
    }

    /// Paces the client's events with `pacer` (nil: no more pacing; the pacer's own
    /// ``ShadowPacer/end()`` lets the waiting ones go).
    func pace(with pacer: ShadowPacer?) {
        state.withLock { $0.pacer = pacer }
    }

    /// Copies the shadow has not answered yet (acks awaited on a connected shadow leg).
    var shadowBacklog: Int {
        state.withLock { state in
            let shadow = state[state.primary.other]
            return shadow.phase == .up ? shadow.acks.pendingCount : 0
        }
    }

    /// When an event without an ack id last went to either upstream.
    var lastUnackedEvent: ContinuousClock.Instant? { state.withLock { $0.lastUnackedEvent } }

    /// Nothing forwarded but unfinished, no ack awaited on a live leg.
    var isQuiet: Bool {
        state.withLock { state in
            state.inFlight == 0
                && (state.legacy.phase != .up || state.legacy.acks.pendingCount == 0)
                && (state.engine.phase != .up || state.engine.acks.pendingCount == 0)
        }
    }

    /// Makes `primary` this session's primary; returns its leg when it is connected.
    func swap(to primary: UpstreamID) -> (any UpstreamLeg)? {
        state.withLock { state in
            state.primary = primary
            guard state[primary].phase == .up else { return nil }
            return state[primary].leg
        }
    }

    /// The upstream this session currently mirrors to.
    var shadowUpstream: UpstreamID { state.withLock { $0.primary.other } }

    /// Whether the client got its CONNECT answer.
    var isClientConnected: Bool { state.withLock { $0.clientConnected } }

    /// Forwards the held frames in order (frames arriving meanwhile queue behind them), then stops holding.
    func release() async {
        while true {
            let (batch, waiters) = state.withLock { state -> ([SocketIOPacket]?, [CheckedContinuation<Void, Never>]) in
                if state.held.isEmpty {
                    state.holding = false
                    defer { state.releaseWaiters = [] }
                    return (nil, state.releaseWaiters)
                }
                defer { state.held = [] }
                return (state.held, [])
            }
            guard let batch else {
                for waiter in waiters { waiter.resume() }
                return
            }
            for packet in batch {
                let plan = state.withLock { Self.planForward(packet, &$0) }
                await execute(plan, packet)
            }
        }
    }

    /// Returns once the session is not holding frames.
    private func waitUntilReleased() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { state -> Bool in
                guard state.holding else { return true }
                state.releaseWaiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    /// Closes the client's session as a dropped connection (the client reconnects).
    func drop() {
        connection.close(reason: .transportClose)
    }
}
