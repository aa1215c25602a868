import Foundation
import Histogram
import JSONValue
import SocketIOClient
import SocketIOProtocol
import Synchronization

/// What each closed-loop client sends, and how it recognises the answer.
enum BenchEvent: String, CaseIterable, Sendable {
    /// Answered by a `game_state_update` to the requester only.
    case requestGameState = "request_game_state"
    /// Changes the state; the answer is the broadcast `game_state_update` that
    /// carries this client's value (every other client receives it too).
    case updateScore = "update_score"
    /// A Pi event answered by an ack: in set-up (no first player chosen) the
    /// legacy acks `{"ok": false, ...}` and changes and broadcasts nothing.
    /// Correlated by ack id, so unsolicited `game_state_update`s (the proxy's
    /// refresh at a switchover) cannot be mistaken for an answer.
    case startGame = "start_game"

    var usesAck: Bool { self == .startGame }

    /// The event's arguments for request `sequence` of client `client`.
    func arguments(client: Int, sequence: Int) -> [JSONValue] {
        switch self {
        case .requestGameState, .startGame:
            return []
        case .updateScore:
            return [["player_id": 1, "score_type": "primary", "value": .int(Self.scoreValue(client: client, sequence: sequence))]]
        }
    }

    /// A value unique to (client, sequence), so the client knows its own broadcast.
    static func scoreValue(client: Int, sequence: Int) -> Int {
        (client + 1) * 100_000_000 + sequence
    }

    /// Whether `name(args)` answers request `sequence` of client `client`.
    func isAnswer(name: String, args: [JSONValue], client: Int, sequence: Int) -> Bool {
        guard name == "game_state_update" else { return false }
        switch self {
        case .requestGameState:
            return true
        case .startGame:
            return false
        case .updateScore:
            guard case .int(let score)? = args.first?["player1"]?["primary_score"] else { return false }
            return score == Self.scoreValue(client: client, sequence: sequence)
        }
    }
}

/// One run of N closed-loop clients against one server: connect them all,
/// warm up, measure for a fixed window, disconnect. Bounded in time by
/// construction: every client is disconnected at the window's end.
struct LoadGenerator: Sendable {
    var url: String
    var clients: Int
    var event: BenchEvent
    var warmup: Duration
    var duration: Duration
    /// Time allowed for all clients to connect.
    var connectTimeout: Duration = .seconds(60)
    /// Connection attempts in flight at once.
    var connectParallelism: Int = 50
    /// Paced (open-loop) load: the events per second all clients send together, each client
    /// every `clients / rate` seconds (staggered); a round trip is timed from when its event
    /// was due, so a server that falls behind shows its backlog. `nil`: closed loop (each
    /// client sends as soon as its previous event was answered).
    var rate: Double?

    struct Result: Sendable {
        var clients: Int
        var connected: Int
        /// Requests sent and answered inside the measuring window.
        var completed: Int
        /// Requests still unanswered when the window closed (at most one per client).
        var unanswered: Int
        /// Clients that lost their connection during the run.
        var disconnects: Int
        /// The first failed send, if any.
        var sendFailure: String?
        var window: Duration
        /// Round trips in microseconds.
        var histogram: Histogram<UInt64>
        /// Every answered request, when the `during` hook asked for it (``LatencyRecorder/keepTimeline()``).
        var timeline: [LatencySample] = []
        var failure: String?

        var seconds: Double { Double(window.components.seconds) + Double(window.components.attoseconds) / 1e18 }
        var throughput: Double { seconds > 0 ? Double(completed) / seconds : 0 }
        func percentileMilliseconds(_ p: Double) -> Double {
            histogram.totalCount == 0 ? .nan : Double(histogram.valueAtPercentile(p)) / 1000
        }
        var maxMilliseconds: Double { histogram.totalCount == 0 ? .nan : Double(histogram.max) / 1000 }
    }

    /// Runs the clients. `during` (the switchover benchmark's flips) runs
    /// concurrently from the start of the measuring window; the window lasts
    /// `duration` and at least until `during` returns.
    func run(during: (@Sendable (LatencyRecorder) async -> Void)? = nil) async -> Result {
        let recorder = LatencyRecorder()
        let gate = StartGate(expected: clients)
        let limiter = ConnectLimiter(slots: connectParallelism)
        let registry = ClientRegistry()
        let clock = ContinuousClock()
        let window: Duration? = await withTaskGroup(of: Void.self) { group in
            for index in 0..<clients {
                group.addTask {
                    await runClient(index: index, recorder: recorder, gate: gate, limiter: limiter, registry: registry)
                }
            }
            // Coordinator: wait for the gate, then end the window.
            let schedule = await gate.schedule(warmup: warmup, duration: duration, connectTimeout: connectTimeout)
            guard let schedule else {
                await registry.disconnectAll()
                return nil
            }
            try? await clock.sleep(until: schedule.start)
            if let during {
                await withTaskGroup(of: Void.self) { inner in
                    inner.addTask { await during(recorder) }
                    inner.addTask { try? await clock.sleep(until: schedule.end) }
                    await inner.waitForAll()
                }
            } else {
                try? await clock.sleep(until: schedule.end)
            }
            let end = clock.now
            recorder.close(at: end)
            await registry.disconnectAll()
            await group.waitForAll()
            return end - schedule.start
        }
        let snapshot = recorder.snapshot()
        let connected = gate.connectedCount
        var failure: String?
        if window == nil {
            failure = "\(connected) of \(clients) clients connected within \(connectTimeout)"
            if let reason = gate.firstFailure { failure! += " (\(reason))" }
        }
        return Result(
            clients: clients, connected: connected, completed: snapshot.completed, unanswered: snapshot.unanswered,
            disconnects: snapshot.disconnects, sendFailure: snapshot.sendFailure, window: window ?? .zero, histogram: snapshot.histogram,
            timeline: recorder.timeline(), failure: failure)
    }

    private func runClient(
        index: Int, recorder: LatencyRecorder, gate: StartGate, limiter: ConnectLimiter, registry: ClientRegistry
    ) async {
        var configuration = SocketIOClient.Configuration(url: url, reconnect: .disabled, connectTimeout: connectTimeout)
        configuration.bufferWhileDisconnected = false
        // update_score: N clients receive N broadcasts per round; only frames that contain this
        // client's value are decoded (the generator shares the cores with the servers).
        let awaited = AwaitedValue()
        if event == .updateScore { configuration.eventFilter = { awaited.mayMatch($0) } }
        let client = SocketIORelayClient(configuration: configuration)
        await registry.add(client)
        let (stream, sink) = AsyncStream.makeStream(of: SocketIOClient.Event.self)
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                try? await client.run { event in sink.yield(LoadEvents.event(event)) }
                sink.finish()
            }
            await limiter.acquire()
            var events = stream.makeAsyncIterator()
            // Connected, and the connect's own game_state_update received (python-socketio
            // may send that event before its CONNECT answer: wait for both, in any order).
            let ready = await SessionStart.awaitReady(&events, gate: gate)
            await limiter.release()
            if !ready {
                gate.arrive(ok: false)
                client.disconnect()
                return
            }
            gate.arrive(ok: true)
            guard let schedule = await gate.waitForSchedule() else {
                client.disconnect()
                return
            }
            let clock = ContinuousClock()
            var sequence = 0
            var pending = false
            // Paced: this client's events are due every `interval`, from a staggered offset.
            let interval = rate.map { Duration.seconds(Double(clients) / $0) }
            var due = interval.map { clock.now + $0 * (Double(index) / Double(clients)) }
            loop: while !recorder.isClosed {
                sequence += 1
                if let next = due, let interval {
                    if next > clock.now { try? await clock.sleep(until: next) }
                    due = next + interval
                    if recorder.isClosed { break loop }
                }
                // Timed from when the event was due (paced) or sent (closed loop).
                let sent = due.flatMap { next in interval.map { next - $0 } } ?? clock.now
                // An acked event is answered by its ack (matched by id: the sequence), the others by
                // an event (`isAnswer`). No timeout of its own: the window's end disconnects the client.
                let ackID = event.usesAck ? sequence : nil
                if event == .updateScore { awaited.set(BenchEvent.scoreValue(client: index, sequence: sequence)) }
                do {
                    try client.send(.event(event.rawValue, event.arguments(client: index, sequence: sequence), id: ackID))
                } catch {
                    if !recorder.isClosed { recorder.sendFailed(String(describing: error)) }
                    break loop
                }
                pending = true
                var answered = false
                while let received = await events.next() {
                    switch received {
                    case .packet(let packet, _) where ackID != nil && packet.isAck && packet.id == ackID:
                        answered = true
                    case .event(let name, let args, _, _) where ackID == nil:
                        answered = event.isAnswer(name: name, args: args, client: index, sequence: sequence)
                    case .disconnected, .connectError:
                        if !recorder.isClosed { recorder.disconnected() }
                        break loop
                    default:
                        break
                    }
                    if answered { break }
                }
                guard answered else { break loop }
                pending = false
                recorder.record(sent: sent, done: clock.now, measured: sent >= schedule.start)
            }
            if pending { recorder.unanswered() }
            client.disconnect()
            // Drain what is left so run() can end.
            while await events.next() != nil {}
        }
    }
}

/// A new session's first moments: the Socket.IO CONNECT and the connect's `game_state_update`.
enum SessionStart {
    /// True once both arrived; false when the client ended first.
    static func awaitReady(_ events: inout AsyncStream<SocketIOClient.Event>.Iterator, gate: StartGate) async -> Bool {
        var connected = false
        var greeted = false
        while let event = await events.next() {
            switch event {
            case .connected: connected = true
            case .event(let name, _, _, _) where name == "game_state_update": greeted = true
            case .connectError(let data):
                gate.fail("connect refused: \(data.serialized())")
                return false
            case .disconnected: return false
            default: break
            }
            if connected && greeted { return true }
        }
        return false
    }
}

/// One answered request: when it was sent and when its answer arrived.
struct LatencySample: Sendable {
    var sent: ContinuousClock.Instant
    var done: ContinuousClock.Instant
}

/// Latencies of answered requests, shared by every client (a mutex around one histogram).
final class LatencyRecorder: Sendable {
    struct Snapshot: Sendable {
        var histogram: Histogram<UInt64>
        var completed: Int
        var unanswered: Int
        var disconnects: Int
        var sendFailure: String?
    }

    private struct State {
        var histogram = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: .three)
        var completed = 0
        var unanswered = 0
        var disconnects = 0
        var sendFailure: String?
        var closedAt: ContinuousClock.Instant?
        /// Every answered request, kept only when asked (switchover timeline).
        var timeline: [LatencySample]?
    }

    private let state = Mutex(State())

    /// Keeps every (sent, done) pair from now on.
    func keepTimeline() { state.withLock { $0.timeline = [] } }

    /// Records a request answered at `done` (dropped when the window had already
    /// closed, or when it was sent during the warm-up).
    func record(sent: ContinuousClock.Instant, done: ContinuousClock.Instant, measured: Bool) {
        guard measured else { return }
        let latency = done - sent
        let micros = UInt64(max(1, latency.components.seconds * 1_000_000 + latency.components.attoseconds / 1_000_000_000_000))
        state.withLock { state in
            if let closedAt = state.closedAt, done > closedAt { return }
            _ = state.histogram.record(min(micros, 120_000_000))
            state.completed += 1
            state.timeline?.append(LatencySample(sent: sent, done: done))
        }
    }

    func unanswered() { state.withLock { $0.unanswered += 1 } }
    func sendFailed(_ reason: String) { state.withLock { if $0.sendFailure == nil { $0.sendFailure = reason } } }
    func disconnected() { state.withLock { $0.disconnects += 1 } }
    func close(at instant: ContinuousClock.Instant) { state.withLock { $0.closedAt = instant } }
    var isClosed: Bool { state.withLock { $0.closedAt != nil } }

    func snapshot() -> Snapshot {
        state.withLock { Snapshot(
                histogram: $0.histogram, completed: $0.completed, unanswered: $0.unanswered, disconnects: $0.disconnects,
                sendFailure: $0.sendFailure) }
    }

    /// The requests answered since ``keepTimeline()``.
    func timeline() -> [LatencySample] {
        state.withLock { $0.timeline ?? [] }
    }
}

/// Releases every client at once when all have connected (or failed), and
/// tells them when the warm-up ends and when the window closes.
final class StartGate: Sendable {
    struct Schedule: Sendable {
        var start: ContinuousClock.Instant
        var end: ContinuousClock.Instant
    }

    private struct State {
        var arrived = 0
        var connected = 0
        var firstFailure: String?
        var schedule: Schedule?
        var decided = false
        var waiters: [CheckedContinuation<Schedule?, Never>] = []
        var coordinator: CheckedContinuation<Void, Never>?
    }

    private let expected: Int
    private let state = Mutex(State())

    init(expected: Int) {
        self.expected = expected
    }

    var connectedCount: Int { state.withLock { $0.connected } }
    var firstFailure: String? { state.withLock { $0.firstFailure } }

    func fail(_ reason: String) {
        state.withLock { if $0.firstFailure == nil { $0.firstFailure = reason } }
    }

    func arrive(ok: Bool) {
        let coordinator = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.arrived += 1
            if ok { state.connected += 1 }
            guard state.arrived == expected else { return nil }
            defer { state.coordinator = nil }
            return state.coordinator
        }
        coordinator?.resume()
    }

    /// Called by clients: the schedule once decided, nil when the run is called off.
    func waitForSchedule() async -> Schedule? {
        await withCheckedContinuation { continuation in
            let decided = state.withLock { state -> (Bool, Schedule?) in
                if state.decided { return (true, state.schedule) }
                state.waiters.append(continuation)
                return (false, nil)
            }
            if decided.0 { continuation.resume(returning: decided.1) }
        }
    }

    /// Called by the coordinator: waits for every client (up to `connectTimeout`),
    /// then fixes the schedule (nil, calling the run off, unless all connected).
    func schedule(warmup: Duration, duration: Duration, connectTimeout: Duration) async -> Schedule? {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    let done = self.state.withLock { state -> Bool in
                        if state.arrived >= self.expected { return true }
                        state.coordinator = continuation
                        return false
                    }
                    if done { continuation.resume() }
                }
            }
            group.addTask {
                try? await Task.sleep(for: connectTimeout)
            }
            await group.next()
            group.cancelAll()
            let pending = state.withLock { state -> CheckedContinuation<Void, Never>? in
                defer { state.coordinator = nil }
                if state.arrived < self.expected { state.arrived = self.expected }  // late arrivals are ignored
                return state.coordinator
            }
            pending?.resume()
        }
        let (waiters, schedule) = state.withLock { state -> ([CheckedContinuation<Schedule?, Never>], Schedule?) in
            state.decided = true
            if state.connected == expected {
                let start = ContinuousClock.now + warmup
                state.schedule = Schedule(start: start, end: start + duration)
            }
            defer { state.waiters = [] }
            return (state.waiters, state.schedule)
        }
        for waiter in waiters { waiter.resume(returning: schedule) }
        return schedule
    }
}

/// At most `slots` connection attempts at once.
actor ConnectLimiter {
    private var free: Int
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(slots: Int) { free = max(1, slots) }

    func acquire() async {
        if free > 0 {
            free -= 1
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    func release() {
        if waiters.isEmpty {
            free += 1
        } else {
            waiters.removeFirst().resume()
        }
    }
}

/// Every client of a run, so the coordinator can end them all.
actor ClientRegistry {
    private var clients: [SocketIORelayClient] = []
    private var closed = false

    func add(_ client: SocketIORelayClient) {
        clients.append(client)
        if closed { client.disconnect() }
    }

    func disconnectAll() {
        closed = true
        for client in clients { client.disconnect() }
    }
}

/// A load client's events as the loop reads them: events by name (the relay client hands
/// every event over as a raw packet), acks as raw packets.
enum LoadEvents {
    static func event(_ event: SocketIOClient.Event) -> SocketIOClient.Event {
        guard case .packet(let packet, _) = event, packet.isEvent, let name = packet.eventName else { return event }
        return .event(name: name, args: packet.eventArguments, attachments: packet.attachments, ackID: packet.id)
    }
}

/// The value a load client waits for, read by its event filter on the client's reader.
final class AwaitedValue: Sendable {
    private let value = Atomic<Int>(-1)  // -1: every event passes (connecting)

    func set(_ newValue: Int) { value.store(newValue, ordering: .relaxed) }

    /// Whether `text` may carry the awaited value: its decimal digits appear in it.
    func mayMatch(_ text: String) -> Bool {
        let awaited = value.load(ordering: .relaxed)
        guard awaited >= 0 else { return true }
        let needle = Array(String(awaited).utf8)
        var text = text
        return text.withUTF8 { haystack in
            guard haystack.count >= needle.count else { return false }
            let last = haystack.count - needle.count
            var i = 0
            while i <= last {
                if haystack[i] == needle[0] {
                    var j = 1
                    while j < needle.count, haystack[i + j] == needle[j] { j += 1 }
                    if j == needle.count { return true }
                }
                i += 1
            }
            return false
        }
    }
}
