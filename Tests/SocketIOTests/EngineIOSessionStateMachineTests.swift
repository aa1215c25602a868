import SocketIOProtocol
import Testing

@testable import SocketIOServer

/// A clock that only moves when told to; the state machine only ever sees its instants.
struct MockClock: Clock {
    struct Instant: InstantProtocol {
        var offset: Duration
        func advanced(by duration: Duration) -> Self { .init(offset: offset + duration) }
        func duration(to other: Self) -> Duration { other.offset - offset }
        static func < (lhs: Self, rhs: Self) -> Bool { lhs.offset < rhs.offset }
    }

    var now = Instant(offset: .zero)
    var minimumResolution: Duration { .milliseconds(1) }
    func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        preconditionFailure("the state machine never sleeps")
    }
}

@Suite struct EngineIOSessionStateMachineTests {
    typealias Machine = EngineIOSession.StateMachine<MockClock>

    static let interval = Duration.milliseconds(300)
    static let timeout = Duration.milliseconds(200)

    var now = MockClock.Instant(offset: .zero)

    func makeMachine(_ transport: Machine.Transport = .polling) -> Machine {
        Machine(transport: transport, pingInterval: Self.interval, pingTimeout: Self.timeout, now: now)
    }

    func at(_ milliseconds: Int) -> MockClock.Instant { .init(offset: .milliseconds(milliseconds)) }

    // MARK: heartbeat

    @Test func pingsEveryIntervalAfterThePong() {
        var machine = makeMachine()
        #expect(machine.nextDeadline == at(300))
        do {
            let result = machine.timerFired(now: at(299))
            #expect(result == [])
        }
        do {
            let result = machine.pollRequested(1, now: at(0))
            #expect(result.0 == .wait)
        }
        do {
            let result = machine.timerFired(now: at(300))
            #expect(result == [.deliver(1, [.ping])])
        }
        #expect(machine.nextDeadline == at(500))
        do {
            let result = machine.postStarted(now: at(350))
            #expect(result.0 == .ok)
        }
        let (result, actions) = machine.postReceived([.pong], now: at(350))
        #expect(result == .ok)
        #expect(actions == [.rescheduleTimer])
        #expect(machine.nextDeadline == at(650))
        do {
            let result = machine.timerFired(now: at(500))
            #expect(result == [])
        }
        #expect(machine.isOpen)
    }

    @Test func missingPongClosesWithPingTimeout() {
        var machine = makeMachine()
        _ = machine.timerFired(now: at(300))
        #expect(machine.buffer == [.ping])
        do {
            let result = machine.pollRequested(7, now: at(301))
            #expect(result == (.respond([.ping]), []))
        }
        do {
            let result = machine.pollRequested(8, now: at(302))
            #expect(result.0 == .wait)
        }
        let actions = machine.timerFired(now: at(500))
        #expect(actions == [.disconnected(.pingTimeout), .deliver(8, [.close]), .terminated])
        #expect(machine.nextDeadline == nil)
        do {
            let result = machine.pollRequested(9, now: at(501))
            #expect(result.0 == .reject(.unknownSession))
        }
    }

    // MARK: long-polling

    @Test func pollWaitsForPacketsAndReturnsThemTogether() {
        var machine = makeMachine()
        do {
            let result = machine.pollRequested(1, now: at(10))
            #expect(result == (.wait, []))
        }
        do {
            let result = machine.send([.message("a"), .message("b")])
            #expect(result == [.deliver(1, [.message("a"), .message("b")])])
        }
        do {
            let result = machine.send([.message("c")])
            #expect(result == [])
        }
        do {
            let result = machine.send([.binaryMessage([1, 2])])
            #expect(result == [])
        }
        do {
            let result = machine.pollRequested(2, now: at(20))
            #expect(result == (.respond([.message("c"), .binaryMessage([1, 2])]), []))
        }
    }

    @Test func aPollCarriesAtMostSixteenPacketsForPythonClients() {
        var machine = makeMachine()
        let packets = (0..<40).map { EngineIOOutboundPacket.message("m\($0)") }
        #expect(machine.send(packets) == [])
        do {
            let result = machine.pollRequested(1, now: at(10))
            #expect(result == (.respond(Array(packets[0..<16])), []))
        }
        do {
            let result = machine.pollRequested(2, now: at(20))
            #expect(result == (.respond(Array(packets[16..<32])), []))
        }
        do {
            let result = machine.pollRequested(3, now: at(30))
            #expect(result == (.respond(Array(packets[32..<40])), []))
        }
        do {
            let result = machine.pollRequested(4, now: at(40))
            #expect(result == (.wait, []))
        }
        do {
            // A waiting poll gets at most 16 too; the rest stays for the next poll.
            let result = machine.send(packets)
            #expect(result == [.deliver(4, Array(packets[0..<16]))])
            let next = machine.pollRequested(5, now: at(50))
            #expect(next == (.respond(Array(packets[16..<32])), []))
        }
    }

    @Test func concurrentPollsCloseTheSession() {
        var machine = makeMachine()
        _ = machine.pollRequested(1, now: at(10))
        let (result, actions) = machine.pollRequested(2, now: at(15))
        #expect(result == .reject(.badRequest))
        #expect(actions == [.disconnected(.transportError), .deliver(1, [.close]), .terminated])
        do {
            let result = machine.pollRequested(3, now: at(20))
            #expect(result.0 == .reject(.unknownSession))
        }
    }

    @Test func postDispatchesMessagesInOrder() {
        var machine = makeMachine()
        do {
            let result = machine.postStarted(now: at(1))
            #expect(result.0 == .ok)
        }
        let (result, actions) = machine.postReceived(
            [.message("4test1"), .binaryMessage([1, 2, 3, 4]), .noop, .message("x")], now: at(2))
        #expect(result == .ok)
        #expect(actions == [.dispatch([.text("4test1"), .binary([1, 2, 3, 4]), .text("x")])])
    }

    @Test func concurrentPostsCloseTheSession() {
        var machine = makeMachine()
        do {
            let result = machine.postStarted(now: at(1))
            #expect(result.0 == .ok)
        }
        let (result, actions) = machine.postStarted(now: at(2))
        #expect(result == .reject(.badRequest))
        #expect(actions == [.disconnected(.transportError), .terminated])
    }

    @Test func malformedOrOversizedPostsCloseTheSession() {
        var malformed = makeMachine()
        _ = malformed.postStarted(now: at(1))
        do {
            let result = malformed.postFailed(.malformed, now: at(2))
            #expect(result == (.reject(.badRequest), [.disconnected(.parseError), .terminated]))
        }
        var oversized = makeMachine()
        _ = oversized.postStarted(now: at(1))
        do {
            let result = oversized.postFailed(.tooLarge, now: at(2))
            #expect(result == (.payloadTooLarge, [.disconnected(.transportError), .terminated]))
        }
        var upgradeOverPolling = makeMachine()
        _ = upgradeOverPolling.postStarted(now: at(1))
        let (result, actions) = upgradeOverPolling.postReceived([.message("a"), .upgrade], now: at(2))
        #expect(result == .reject(.badRequest))
        #expect(actions == [.dispatch([.text("a")]), .disconnected(.parseError), .terminated])
    }

    @Test func clientCloseReleasesThePendingPollWithNoop() {
        var machine = makeMachine()
        _ = machine.pollRequested(1, now: at(1))
        _ = machine.postStarted(now: at(2))
        let (result, actions) = machine.postReceived([.message("bye"), .close, .message("ignored")], now: at(3))
        #expect(result == .ok)
        #expect(actions == [.dispatch([.text("bye")]), .disconnected(.clientDisconnect), .deliver(1, [.noop]), .terminated])
    }

    @Test func clientCloseWithoutPendingPollAnswersARacingPollWithNoop() {
        var machine = makeMachine()
        _ = machine.send([.message("unread")])
        _ = machine.postStarted(now: at(1))
        let (result, actions) = machine.postReceived([.close], now: at(2))
        #expect(result == .ok)
        #expect(actions == [.disconnected(.clientDisconnect), .rescheduleTimer])
        do {
            let result = machine.pollRequested(1, now: at(3))
            #expect(result == (.respond([.noop]), [.terminated]))
        }
        do {
            let result = machine.pollRequested(2, now: at(4))
            #expect(result.0 == .reject(.unknownSession))
        }
    }

    @Test func serverCloseWithoutPendingPollLingersForTheNextPoll() {
        var machine = makeMachine()
        _ = machine.send([.message("last")])
        do {
            let result = machine.close(reason: .serverDisconnect, now: at(100))
            #expect(result == [.disconnected(.serverDisconnect), .rescheduleTimer])
        }
        do {
            let result = machine.send([.message("dropped")])
            #expect(result == [])
        }
        #expect(machine.nextDeadline == at(300))
        do {
            let result = machine.pollRequested(1, now: at(150))
            #expect(result == (.respond([.message("last"), .close]), [.terminated]))
        }
        do {
            let result = machine.pollRequested(2, now: at(160))
            #expect(result.0 == .reject(.unknownSession))
        }

        var unclaimed = makeMachine()
        _ = unclaimed.close(reason: .serverDisconnect, now: at(100))
        do {
            let result = unclaimed.timerFired(now: at(299))
            #expect(result == [])
        }
        do {
            let result = unclaimed.timerFired(now: at(300))
            #expect(result == [.terminated])
        }
    }

    // MARK: upgrade

    @Test func upgradeProbeThenUpgradeMovesTheBufferToTheWebSocket() {
        var machine = makeMachine()
        do {
            let result = machine.pollRequested(1, now: at(1))
            #expect(result.0 == .wait)
        }
        do {
            let result = machine.webSocketOpened(10)
            #expect(result)
        }
        do {
            let result = machine.webSocketOpened(11)
            #expect(!result, "one upgrade at a time")
        }
        do {
            let result = machine.webSocketPull(100, socket: 10)
            #expect(result == (.wait, []))
        }
        let probe = machine.webSocketReceived(.ping("probe"), from: 10, now: at(2))
        #expect(probe == [.deliver(100, [.pong("probe")]), .deliver(1, [.noop])])
        // Polls during the upgrade end at once; packets wait for the WebSocket.
        do {
            let result = machine.pollRequested(2, now: at(3))
            #expect(result == (.respond([.noop]), []))
        }
        do {
            let result = machine.send([.message("held")])
            #expect(result == [])
        }
        do {
            let result = machine.webSocketPull(101, socket: 10)
            #expect(result == (.wait, []))
        }
        do {
            let result = machine.webSocketReceived(.upgrade, from: 10, now: at(4))
            #expect(result == [.deliver(101, [.message("held")])])
        }
        #expect(machine.transport == .webSocket(10))
        do {
            let result = machine.pollRequested(3, now: at(5))
            #expect(result.0 == .reject(.badRequest))
        }
        do {
            let result = machine.postStarted(now: at(5))
            #expect(result.0 == .reject(.badRequest))
        }
        do {
            let result = machine.webSocketOpened(12)
            #expect(!result, "no second WebSocket after the upgrade")
        }
        #expect(machine.isOpen)
    }

    @Test func probeReplyWaitsForTheWriter() {
        var machine = makeMachine()
        do {
            let result = machine.webSocketOpened(10)
            #expect(result)
        }
        do {
            let result = machine.webSocketReceived(.ping("probe"), from: 10, now: at(1))
            #expect(result == [])
        }
        do {
            let result = machine.webSocketPull(100, socket: 10)
            #expect(result == (.write([.pong("probe")]), []))
        }
    }

    @Test func failedProbeKeepsPolling() {
        var machine = makeMachine()
        do {
            let result = machine.webSocketOpened(10)
            #expect(result)
        }
        _ = machine.webSocketPull(100, socket: 10)
        do {
            let result = machine.webSocketReceived(.message("early"), from: 10, now: at(1))
            #expect(result == [.finish(100)])
        }
        #expect(machine.probe == nil)
        do {
            let result = machine.pollRequested(1, now: at(2))
            #expect(result.0 == .wait)
        }
        do {
            let result = machine.send([.message("a")])
            #expect(result == [.deliver(1, [.message("a")])])
        }

        var closedProbe = makeMachine()
        do {
            let result = closedProbe.webSocketOpened(10)
            #expect(result)
        }
        _ = closedProbe.send([.message("buffered")])
        _ = closedProbe.webSocketReceived(.ping("probe"), from: 10, now: at(1))
        do {
            let result = closedProbe.webSocketClosed(10, now: at(2))
            #expect(result == [])
        }
        do {
            let result = closedProbe.pollRequested(1, now: at(3))
            #expect(result == (.respond([.message("buffered")]), []))
        }
        do {
            let result = closedProbe.webSocketOpened(11)
            #expect(result, "a new upgrade may start")
        }
    }

    // MARK: WebSocket transport

    @Test func webSocketWriterDrainsThenFinishesOnServerClose() {
        var machine = makeMachine(.webSocket(5))
        do {
            let result = machine.webSocketPull(1, socket: 5)
            #expect(result == (.wait, []))
        }
        do {
            let result = machine.send([.message("a")])
            #expect(result == [.deliver(1, [.message("a")])])
        }
        _ = machine.send([.message("b")])
        do {
            let result = machine.close(reason: .serverDisconnect, now: at(10))
            #expect(result == [.disconnected(.serverDisconnect), .rescheduleTimer])
        }
        do {
            let result = machine.webSocketPull(2, socket: 5)
            #expect(result == (.write([.message("b"), .close]), []))
        }
        do {
            let result = machine.webSocketPull(3, socket: 5)
            #expect(result == (.finished, [.terminated]))
        }
        do {
            let result = machine.webSocketPull(4, socket: 6)
            #expect(result == (.finished, []))
        }
    }

    @Test func webSocketMessagesPongsAndClose() {
        var machine = makeMachine(.webSocket(5))
        _ = machine.webSocketPull(1, socket: 5)
        do {
            let result = machine.webSocketReceived(.message("hi"), from: 5, now: at(1))
            #expect(result == [.dispatch([.text("hi")])])
        }
        do {
            let result = machine.webSocketReceived(.binaryMessage([9]), from: 5, now: at(2))
            #expect(result == [.dispatch([.binary([9])])])
        }
        do {
            let result = machine.timerFired(now: at(300))
            #expect(result == [.deliver(1, [.ping])])
        }
        do {
            let result = machine.webSocketReceived(.pong, from: 5, now: at(320))
            #expect(result == [.rescheduleTimer])
        }
        do {
            let result = machine.webSocketReceived(.message("late"), from: 6, now: at(321))
            #expect(result == [], "another socket is ignored")
        }
        do {
            let result = machine.webSocketPull(2, socket: 5)
            #expect(result == (.wait, []))
        }
        do {
            let result = machine.webSocketReceived(.close, from: 5, now: at(330))
            #expect(result == [.disconnected(.clientDisconnect), .finish(2), .terminated])
        }
    }

    @Test func webSocketClosedByThePeerEndsTheSession() {
        var machine = makeMachine(.webSocket(5))
        _ = machine.webSocketPull(1, socket: 5)
        _ = machine.send([.message("unsent")])
        var other = makeMachine(.webSocket(5))
        _ = other.webSocketPull(1, socket: 5)
        do {
            let result = other.webSocketClosed(5, now: at(1))
            #expect(result == [.disconnected(.transportClose), .finish(1), .terminated])
        }
        do {
            let result = machine.webSocketFailed(5, now: at(1))
            #expect(result == [.disconnected(.parseError), .rescheduleTimer])
        }
        do {
            let result = machine.webSocketPull(2, socket: 5)
            #expect(result == (.write([.close]), []))
        }
    }

    @Test func shutdownEndsLingeringSessions() {
        var lingering = makeMachine()
        _ = lingering.close(reason: .serverDisconnect, now: at(1))
        do {
            let result = lingering.shutdown(now: at(2))
            #expect(result == [.terminated])
        }
        var open = makeMachine()
        _ = open.pollRequested(1, now: at(1))
        do {
            let result = open.shutdown(now: at(2))
            #expect(result == [.disconnected(.serverShutdown), .deliver(1, [.close]), .terminated])
        }
    }

    @Test func cancelledPollClosesTheSession() {
        var machine = makeMachine()
        _ = machine.pollRequested(1, now: at(1))
        do {
            let result = machine.waiterCancelled(1, now: at(2))
            #expect(result == [.disconnected(.transportError), .terminated])
        }
    }
}
