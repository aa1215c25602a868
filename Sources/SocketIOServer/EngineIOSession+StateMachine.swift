import SocketIOProtocol

// The pure core of one Engine.IO v4 session: no I/O, no tasks, no `.now`.
// Instants are passed in; the shell (`EngineIOSession`) owns the continuations
// behind each `WaiterID` and carries out the returned actions in order.

extension EngineIOSession {
    typealias WaiterID = Int
    typealias WebSocketID = Int

    /// Why an HTTP request of a session is refused with 400.
    enum Rejection: Equatable, Sendable {
        /// The session is gone (or never existed): `{"code":1,"message":"Session ID unknown"}`.
        case unknownSession
        /// The request breaks a transport rule: `{"code":3,"message":"Bad request"}`.
        case badRequest
    }

    /// Side effects of an event, to carry out in order.
    enum Action: Equatable, Sendable {
        /// Resume a waiting puller (a long-poll GET or a WebSocket writer) with packets to write.
        case deliver(WaiterID, [EngineIOOutboundPacket])
        /// Resume a waiting WebSocket writer: nothing more will come, close the socket.
        case finish(WaiterID)
        /// Hand message payloads to the application, in order.
        case dispatch([EngineIOPacket.Payload])
        /// The session is over for the application (its handler is told, after the messages).
        case disconnected(DisconnectReason)
        /// The transport is done too: forget the session, stop its timer.
        case terminated
        /// The next deadline moved earlier: wake the timer.
        case rescheduleTimer
    }

    /// Answer to a long-poll GET.
    enum PollResult: Equatable, Sendable {
        case respond([EngineIOOutboundPacket])
        case wait
        case reject(Rejection)
    }

    /// Answer to a WebSocket writer asking for its next packets.
    enum PullResult: Equatable, Sendable {
        case write([EngineIOOutboundPacket])
        case wait
        case finished
    }

    /// Answer to a POST: 200 `ok`, or an error status.
    enum PostResult: Equatable, Sendable {
        case ok
        case reject(Rejection)
        case payloadTooLarge
    }

    struct StateMachine<C: Clock>: Sendable where C.Duration == Duration {
        typealias Instant = C.Instant

        enum Transport: Equatable, Sendable {
            case polling
            case webSocket(WebSocketID)
        }

        enum Lifecycle: Equatable, Sendable {
            case open
            /// Closed for the application; the transport still drains `buffer` until the deadline.
            case closing(deadline: Instant)
            case closed
        }

        enum Heartbeat: Equatable, Sendable {
            case pingDue(Instant)
            case awaitingPong(deadline: Instant)
        }

        /// A WebSocket opened with this session's sid, between `2probe` and `5`.
        struct Probe: Equatable, Sendable {
            var socket: WebSocketID
            var answered = false
            var replyPending = false
            var waiter: WaiterID?
        }

        enum PostFailure: Equatable, Sendable {
            case tooLarge
            case malformed
        }

        let pingInterval: Duration
        let pingTimeout: Duration
        let allowUpgrades: Bool
        private(set) var transport: Transport
        private(set) var lifecycle: Lifecycle = .open
        private(set) var heartbeat: Heartbeat
        private(set) var probe: Probe?
        private(set) var buffer: [EngineIOOutboundPacket] = []
        private(set) var pollWaiter: WaiterID?
        private(set) var writerWaiter: WaiterID?
        private(set) var postInProgress = false

        init(transport: Transport, pingInterval: Duration, pingTimeout: Duration, allowUpgrades: Bool = true, now: Instant) {
            self.transport = transport
            self.pingInterval = pingInterval
            self.pingTimeout = pingTimeout
            self.allowUpgrades = allowUpgrades
            self.heartbeat = .pingDue(now.advanced(by: pingInterval))
        }

        var isOpen: Bool { lifecycle == .open }

        /// When `timerFired` must be called next; nil once terminated.
        var nextDeadline: Instant? {
            switch lifecycle {
            case .closed: return nil
            case .closing(let deadline): return deadline
            case .open:
                switch heartbeat {
                case .pingDue(let at): return at
                case .awaitingPong(let deadline): return deadline
                }
            }
        }

        // MARK: outbound

        /// The application sends packets (kept together, in order).
        mutating func send(_ packets: [EngineIOOutboundPacket]) -> [Action] {
            guard lifecycle == .open, !packets.isEmpty else { return [] }
            buffer.append(contentsOf: packets)
            return flush()
        }

        /// Deliver the buffer to whoever is waiting on the active transport.
        private mutating func flush() -> [Action] {
            guard !buffer.isEmpty else { return [] }
            switch transport {
            case .webSocket:
                if let waiter = writerWaiter {
                    writerWaiter = nil
                    defer { buffer = [] }
                    return [.deliver(waiter, buffer)]
                }
            case .polling:
                if probe == nil, let waiter = pollWaiter {
                    pollWaiter = nil
                    return [.deliver(waiter, takePollBatch())]
                }
            }
            return []
        }

        /// python-engineio clients refuse a poll reply of more than 16 packets (the whole
        /// reply is dropped): a poll carries at most this many, the rest waits for the next.
        static var maxPacketsPerPoll: Int { 16 }

        /// The next poll reply's packets, in order, at most ``maxPacketsPerPoll``.
        private mutating func takePollBatch() -> [EngineIOOutboundPacket] {
            let count = min(buffer.count, Self.maxPacketsPerPoll)
            let batch = Array(buffer.prefix(count))
            buffer.removeFirst(count)
            return batch
        }

        // MARK: heartbeat

        mutating func timerFired(now: Instant) -> [Action] {
            switch lifecycle {
            case .closed:
                return []
            case .closing(let deadline):
                guard now >= deadline else { return [] }
                return terminate()
            case .open:
                switch heartbeat {
                case .pingDue(let at):
                    guard now >= at else { return [] }
                    heartbeat = .awaitingPong(deadline: now.advanced(by: pingTimeout))
                    buffer.append(.ping)
                    return flush()
                case .awaitingPong(let deadline):
                    guard now >= deadline else { return [] }
                    return close(reason: .pingTimeout, now: now)
                }
            }
        }

        private mutating func receivedPong(now: Instant) -> [Action] {
            guard case .awaitingPong = heartbeat else { return [] }
            heartbeat = .pingDue(now.advanced(by: pingInterval))
            return [.rescheduleTimer]
        }

        // MARK: long-polling

        /// A GET arrived for this session.
        mutating func pollRequested(_ waiter: WaiterID, now: Instant) -> (PollResult, [Action]) {
            switch lifecycle {
            case .closed:
                return (.reject(.unknownSession), [])
            case .closing:
                guard transport == .polling, !buffer.isEmpty else { return (.reject(.unknownSession), []) }
                let packets = buffer
                buffer = []
                return (.respond(packets), terminate())
            case .open:
                break
            }
            guard transport == .polling else { return (.reject(.badRequest), []) }
            if probe != nil {
                // Upgrading: end this poll at once so that the client can send `5` (python-engineio does the same).
                return (.respond([.noop]), [])
            }
            if pollWaiter != nil {
                // Two concurrent GETs: 400 and close the session (the pending poll gets the close packet).
                return (.reject(.badRequest), close(reason: .transportError, now: now))
            }
            if !buffer.isEmpty {
                return (.respond(takePollBatch()), [])
            }
            pollWaiter = waiter
            return (.wait, [])
        }

        /// A POST arrived (before its body is read).
        mutating func postStarted(now: Instant) -> (PostResult, [Action]) {
            guard lifecycle == .open else { return (.reject(.unknownSession), []) }
            guard transport == .polling else { return (.reject(.badRequest), []) }
            if postInProgress {
                return (.reject(.badRequest), close(reason: .transportError, now: now))
            }
            postInProgress = true
            return (.ok, [])
        }

        /// The POST body could not be read or decoded.
        mutating func postFailed(_ failure: PostFailure, now: Instant) -> (PostResult, [Action]) {
            postInProgress = false
            guard lifecycle == .open else { return (.reject(.unknownSession), []) }
            switch failure {
            case .tooLarge: return (.payloadTooLarge, close(reason: .transportError, now: now))
            case .malformed: return (.reject(.badRequest), close(reason: .parseError, now: now))
            }
        }

        /// The decoded packets of a POST body.
        mutating func postReceived(_ packets: [EngineIOPacket], now: Instant) -> (PostResult, [Action]) {
            postInProgress = false
            guard lifecycle == .open else { return (.reject(.unknownSession), []) }
            guard transport == .polling else { return (.reject(.badRequest), []) }
            let (actions, violated) = receive(packets, now: now)
            return (violated ? .reject(.badRequest) : .ok, actions)
        }

        /// Packets from the client on the active transport. Returns whether a rule was broken.
        private mutating func receive(_ packets: [EngineIOPacket], now: Instant) -> ([Action], Bool) {
            var actions: [Action] = []
            var messages: [EngineIOPacket.Payload] = []
            func dispatchPending() {
                if !messages.isEmpty {
                    actions.append(.dispatch(messages))
                    messages = []
                }
            }
            for packet in packets {
                guard lifecycle == .open else { break }
                switch packet.kind {
                case .message:
                    messages.append(packet.payload)
                case .pong:
                    actions += receivedPong(now: now)
                case .ping:
                    // Not sent by v4 clients outside the upgrade probe; answer it like engine.io v3 did.
                    buffer.append(EngineIOOutboundPacket(EngineIOPacket(kind: .pong, payload: packet.payload)))
                    actions += flush()
                case .noop:
                    break
                case .close:
                    dispatchPending()
                    actions += close(reason: .clientDisconnect, now: now)
                case .open, .upgrade:
                    dispatchPending()
                    actions += close(reason: .parseError, now: now)
                    return (actions, true)
                }
            }
            dispatchPending()
            return (actions, false)
        }

        // MARK: WebSocket

        /// A WebSocket opened with this session's sid: the start of an upgrade. False: close it.
        mutating func webSocketOpened(_ socket: WebSocketID) -> Bool {
            guard lifecycle == .open, allowUpgrades, transport == .polling, probe == nil else { return false }
            probe = Probe(socket: socket)
            return true
        }

        /// A packet arrived on a WebSocket of this session.
        mutating func webSocketReceived(_ packet: EngineIOPacket, from socket: WebSocketID, now: Instant) -> [Action] {
            if transport == .webSocket(socket) {
                guard lifecycle == .open else { return [] }
                if packet.kind == .upgrade { return [] }  // a late or repeated `5`
                return receive([packet], now: now).0
            }
            guard var probe, probe.socket == socket else { return [] }
            if !probe.answered, packet == .ping("probe") {
                probe.answered = true
                var actions: [Action] = []
                if let waiter = probe.waiter {
                    probe.waiter = nil
                    actions.append(.deliver(waiter, [.pong("probe")]))
                } else {
                    probe.replyPending = true
                }
                self.probe = probe
                if let waiter = pollWaiter {
                    // End the pending poll so that the client can pause polling.
                    pollWaiter = nil
                    actions.append(.deliver(waiter, [.noop]))
                }
                return actions
            }
            if probe.answered, packet.kind == .upgrade {
                self.probe = nil
                transport = .webSocket(socket)
                var actions: [Action] = []
                if let waiter = pollWaiter {
                    pollWaiter = nil
                    actions.append(.deliver(waiter, [.noop]))
                }
                writerWaiter = probe.waiter
                return actions + flush()
            }
            // Anything else during the probe: the upgrade failed, polling goes on.
            return abortUpgrade()
        }

        /// The WebSocket delivered something that is not an Engine.IO packet (or too large).
        mutating func webSocketFailed(_ socket: WebSocketID, now: Instant) -> [Action] {
            if transport == .webSocket(socket) {
                guard lifecycle == .open else { return [] }
                return close(reason: .parseError, now: now)
            }
            if probe?.socket == socket { return abortUpgrade() }
            return []
        }

        /// A WebSocket of this session ended (closed by the peer or broken).
        mutating func webSocketClosed(_ socket: WebSocketID, now: Instant) -> [Action] {
            if transport == .webSocket(socket) {
                switch lifecycle {
                case .open:
                    // Nothing more can be written: drop the buffer.
                    buffer = []
                    var actions = close(reason: .transportClose, now: now)
                    if case .closing = lifecycle { actions += terminate() }
                    return actions
                case .closing:
                    return terminate()
                case .closed:
                    return []
                }
            }
            if probe?.socket == socket { return abortUpgrade() }
            return []
        }

        /// A WebSocket writer asks what to write next.
        mutating func webSocketPull(_ waiter: WaiterID, socket: WebSocketID) -> (PullResult, [Action]) {
            if transport == .webSocket(socket) {
                if !buffer.isEmpty {
                    let packets = buffer
                    buffer = []
                    return (.write(packets), [])
                }
                switch lifecycle {
                case .open:
                    writerWaiter = waiter
                    return (.wait, [])
                case .closing:
                    return (.finished, terminate())
                case .closed:
                    return (.finished, [])
                }
            }
            guard var probe, probe.socket == socket, lifecycle == .open else { return (.finished, []) }
            if probe.replyPending {
                probe.replyPending = false
                self.probe = probe
                return (.write([.pong("probe")]), [])
            }
            probe.waiter = waiter
            self.probe = probe
            return (.wait, [])
        }

        /// A waiting GET or writer went away (its task was cancelled).
        mutating func waiterCancelled(_ waiter: WaiterID, now: Instant) -> [Action] {
            if pollWaiter == waiter {
                pollWaiter = nil
                // An abandoned poll: the client can no longer be reached reliably (engine.io closes too).
                return lifecycle == .open ? close(reason: .transportError, now: now) : []
            }
            if writerWaiter == waiter { writerWaiter = nil }
            if probe?.waiter == waiter { probe?.waiter = nil }
            return []
        }

        private mutating func abortUpgrade() -> [Action] {
            guard let probe else { return [] }
            self.probe = nil
            var actions: [Action] = []
            if let waiter = probe.waiter { actions.append(.finish(waiter)) }
            if transport == .polling { actions += flush() }
            return actions
        }

        // MARK: closing

        /// Close the session. The client gets a `close` packet where a transport can still carry it
        /// (`noop` instead when the client itself closed, as engine.io answers a pending poll).
        mutating func close(reason: DisconnectReason, now: Instant) -> [Action] {
            guard lifecycle == .open else { return [] }
            var actions: [Action] = [.disconnected(reason)]
            postInProgress = false
            if let probe {
                self.probe = nil
                if let waiter = probe.waiter { actions.append(.finish(waiter)) }
            }
            let clientClosed = reason == .clientDisconnect
            switch transport {
            case .webSocket:
                if !clientClosed, reason != .transportClose { buffer.append(.close) }
                if let waiter = writerWaiter {
                    writerWaiter = nil
                    if buffer.isEmpty {
                        lifecycle = .closed
                        return actions + [.finish(waiter), .terminated]
                    }
                    actions.append(.deliver(waiter, buffer))
                    buffer = []
                }
                // The writer drains what is left, then finishes; bounded by the deadline.
                lifecycle = .closing(deadline: now.advanced(by: pingTimeout))
                return actions + [.rescheduleTimer]
            case .polling:
                let last: EngineIOOutboundPacket = clientClosed ? .noop : .close
                if let waiter = pollWaiter {
                    pollWaiter = nil
                    actions.append(.deliver(waiter, clientClosed ? [last] : buffer + [last]))
                    buffer = []
                    return actions + terminate()
                }
                if reason == .serverDisconnect || clientClosed {
                    // Keep the session until the client's next poll collects the last packets
                    // (a poll racing the client's own `close` gets the `noop`, as with engine.io).
                    if clientClosed { buffer = [] }
                    buffer.append(last)
                    lifecycle = .closing(deadline: now.advanced(by: pingTimeout))
                    return actions + [.rescheduleTimer]
                }
                buffer = []
                return actions + terminate()
            }
        }

        /// The server is going away: close if open, stop lingering if closing.
        mutating func shutdown(now: Instant) -> [Action] {
            switch lifecycle {
            case .open: return close(reason: .serverShutdown, now: now)
            case .closing: return terminate()
            case .closed: return []
            }
        }

        private mutating func terminate() -> [Action] {
            guard lifecycle != .closed else { return [] }
            lifecycle = .closed
            buffer = []
            var actions: [Action] = []
            if let waiter = writerWaiter {
                writerWaiter = nil
                actions.append(.finish(waiter))
            }
            if let waiter = pollWaiter {
                pollWaiter = nil
                actions.append(.deliver(waiter, [.noop]))
            }
            return actions + [.terminated]
        }
    }
}
