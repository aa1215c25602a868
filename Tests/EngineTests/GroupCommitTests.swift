import Foundation
import JSONValue
import ScorerState
import SocketIOProtocol
import SocketIOServer
import Storage
import Synchronization
import Testing

@testable import Engine

/// Group commit and the served state encoded once per state.
@Suite(.timeLimit(.minutes(1)))
struct GroupCommitTests {
    let clock = ManualClock()

    func makeEngine(store: EngineStore, broadcasts: EmissionLog) async throws -> ScorerEngine {
        try await ScorerEngine(
            configuration: EngineConfiguration(rateLimit: 0).with(dice: .scripted(setUpDice)), store: store,
            clock: clock.engineClock, broadcaster: broadcasts.emitter)
    }

    /// The bytes written (`==` on the text of a WebSocket message is canonical string equivalence).
    static func bytes(_ packet: SocketIOEncodedPacket) -> [[UInt8]] {
        packet.webSocketMessages.map { message in
            switch message {
            case .text(let text): Array(text.utf8)
            case .binary(let bytes): bytes
            }
        }
    }

    static func score(_ value: Int) -> [JSONValue] {
        [["player_id": 1, "score_type": "primary", "value": .int(value)]]
    }

    // MARK: - Group commit

    /// Events arriving together share transactions; every one is journaled in
    /// order, and the broadcasts are the journaled states, in the same order.
    @Test func concurrentEventsShareTransactionsAndBroadcastTheirDurableStatesInOrder() async throws {
        try await withTemporaryDirectory { directory in
            let store = try EngineStore.open(inDirectory: directory)
            let broadcasts = EmissionLog()
            let engine = try await makeEngine(store: store, broadcasts: broadcasts)
            let count = 40
            let results = await withTaskGroup(of: (Int, EngineEventResult).self) { group in
                for index in 0..<count {
                    group.addTask {
                        (index, await engine.receive("update_score", arguments: Self.score(1000 + index), from: EngineClient(id: "c\(index)")))
                    }
                }
                return await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
            }
            #expect(results.count == count)
            #expect(Set(results.values.compactMap(\.sequence)) == Set(1...Int64(count)))
            let transactions = await engine.commits.transactions
            #expect(transactions < count, "\(transactions) transactions for \(count) concurrent events")

            let journal = try await store.journal(after: 0)
            #expect(journal.map(\.sequence) == (1...Int64(count)).map { $0 })
            let broadcast = broadcasts.named("game_state_update")
            #expect(broadcast.map { StateHash.of($0.payload) } == journal.map(\.stateHash))
            // Each event's own broadcast carries its value, under its sequence.
            for (index, result) in results {
                let sequence = try #require(result.sequence)
                #expect(journal[Int(sequence) - 1].args == Self.score(1000 + index))
                #expect(broadcast[Int(sequence) - 1].payload.at("/player1/primary_score") == .int(1000 + index))
                #expect(result.broadcasts.first?.payload == broadcast[Int(sequence) - 1].payload)
            }
            #expect(await engine.state().sequence == Int64(count))
            await engine.close()
        }
    }

    /// The disk fails while events are in flight: whatever was broadcast is on
    /// disk, whatever is not on disk was refused and never broadcast, and the
    /// engine's state is the last durable one.
    @Test func aFailedGroupRefusesEveryEventAppliedSinceAndBroadcastsNothingThatIsNotStored() async throws {
        try await withTemporaryDirectory { directory in
            let store = try EngineStore.open(inDirectory: directory)
            let broadcasts = EmissionLog()
            let engine = try await makeEngine(store: store, broadcasts: broadcasts)
            let count = 40
            let (firstBroadcast, firstBroadcastSeen) = AsyncStream<Void>.makeStream()
            let errors = EmissionLog()
            let results = try await withThrowingTaskGroup(of: (Int, EngineEventResult)?.self) { group in
                for index in 0..<count {
                    group.addTask {
                        let client = EngineClient(id: "c\(index)", emit: errors.emitter)
                        let result = await engine.receive("update_score", arguments: Self.score(2000 + index), from: client)
                        if result.sequence != nil { firstBroadcastSeen.yield() }
                        return (index, result)
                    }
                }
                group.addTask {
                    // The disk "fails" underneath the engine once the first event is answered.
                    for await _ in firstBroadcast { break }
                    try await store.close()
                    return nil
                }
                var results: [Int: EngineEventResult] = [:]
                for try await item in group {
                    if let (index, result) = item { results[index] = result }
                }
                return results
            }
            firstBroadcastSeen.finish()

            let reopened = try EngineStore.open(inDirectory: directory)
            let journal = try await reopened.journal(after: 0)
            let journaledValues = Set(journal.compactMap { $0.args.first?.at("/value")?.intValue })
            let broadcastValues = Set(broadcasts.all.compactMap { $0.payload.at("/player1/primary_score")?.intValue })
            #expect(!journal.isEmpty)
            #expect(broadcastValues == journaledValues)
            for (index, result) in results {
                let value = 2000 + index
                if result.sequence != nil {
                    #expect(journaledValues.contains(value))
                    #expect(result.errorCode == nil)
                } else {
                    #expect(result.errorCode == EngineErrorCode.serverError)
                    #expect(!journaledValues.contains(value))
                }
            }
            let refused = results.values.filter { $0.errorCode == EngineErrorCode.serverError }.count
            #expect(errors.named("error").count == refused)
            #expect(journal.count + refused == count)
            // The game went back to the last durable state.
            #expect(await StateHash.of(engine.state().state) == journal.last?.stateHash)
            await engine.close()
            try await reopened.close()
        }
    }

    /// A request for the state waits for the commit of an earlier change, so
    /// its reply never shows a state that is not on disk, and comes after that
    /// change's broadcast.
    @Test func aReplyAfterAChangeComesAfterItsBroadcast() async throws {
        try await withTemporaryDirectory { directory in
            let store = try EngineStore.open(inDirectory: directory)
            let order = EmissionLog()
            let engine = try await ScorerEngine(
                configuration: EngineConfiguration(rateLimit: 0).with(dice: .scripted(setUpDice)), store: store,
                clock: clock.engineClock, broadcaster: order.emitter)
            let client = EngineClient(id: "phone", emit: order.emitter)
            async let change = engine.receive("update_score", arguments: Self.score(7), from: EngineClient(id: "other"))
            async let read = engine.receive("request_game_state", arguments: [], from: client)
            let (changed, replied) = await (change, read)
            #expect(changed.sequence == 1)
            let reply = try #require(replied.replies.first)
            let sent = order.all.map { $0.payload.at("/player1/primary_score") }
            if reply.payload.at("/player1/primary_score") == 7 {
                #expect(sent == [7, 7])  // broadcast first, then the reply
            } else {
                #expect(sent == [0, 7])  // the read ran first, on the state before
            }
            await engine.close()
        }
    }

    // MARK: - The served state encoded once

    @Test func theServedStateIsEncodedOncePerStateAndReusedForRequestersAndBroadcasts() async throws {
        let store = try EngineStore.inMemory()
        let packets = Mutex<[SocketIOEncodedPacket]>([])
        let broadcastPackets = Mutex<[SocketIOEncodedPacket]>([])
        let engine = try await makeEngine(store: store, broadcasts: EmissionLog())
        await engine.setBroadcaster({ _, _ in Issue.record("the plain broadcaster was used") }, encoded: { packet in
            broadcastPackets.withLock { $0.append(packet) }
        })
        let client = EngineClient(
            id: "phone", emit: { _, _ in Issue.record("the plain emitter was used") },
            emitEncoded: { packet in packets.withLock { $0.append(packet) } })

        _ = await engine.connect(client)
        _ = await engine.receive("request_game_state", arguments: [], from: client)
        _ = await engine.receive("request_game_state", arguments: [], from: client)
        #expect(await engine.emissions.encodes == 1)
        let changed = await engine.receive("update_score", arguments: Self.score(5), from: client)
        _ = await engine.receive("request_game_state", arguments: [], from: client)
        #expect(await engine.emissions.encodes == 2)  // the broadcast's bytes served the next request

        let sent = packets.withLock { $0 }
        let broadcast = broadcastPackets.withLock { $0 }
        #expect(sent.count == 4 && broadcast.count == 1)
        #expect(sent[0] == SocketIOEncodedPacket.event("game_state_update", [ScorerGame.defaultDocument]))
        #expect(sent[1] == sent[0] && sent[2] == sent[0])
        #expect(broadcast[0] == SocketIOEncodedPacket.event("game_state_update", changed.broadcasts[0].arguments))
        #expect(sent[3] == broadcast[0])
        // The bytes are the JSON a fresh encode gives.
        #expect(
            broadcast[0].webSocketMessages
                == [.text("42" + JSONValue.array(["game_state_update", changed.broadcasts[0].payload]).serialized())])
    }

    @Test func errorEventsAreEncodedPerEvent() async throws {
        let engine = try await makeEngine(store: try EngineStore.inMemory(), broadcasts: EmissionLog())
        let packets = Mutex<[SocketIOEncodedPacket]>([])
        let client = EngineClient(id: "phone", emitEncoded: { packet in packets.withLock { $0.append(packet) } })
        let result = await engine.receive("no_such_event", arguments: [], from: client)
        let error = try #require(result.replies.first)
        #expect(error.event == "error")
        #expect(packets.withLock { $0 } == [SocketIOEncodedPacket.event("error", [error.payload])])
    }

    @Test func onlyIdenticalPayloadsShareAnEncoding() {
        var emissions = EncodedEmissions()
        let state: JSONValue = ["a": 1, "b": ["c": "é", "d": 0.0]]
        let first = emissions.packet("game_state_update", state)
        #expect(emissions.packet("game_state_update", state) == first)
        #expect(emissions.encodes == 1)
        let variants: [JSONValue] = [
            ["b": ["c": "é", "d": 0.0], "a": 1],  // same keys, another order: other bytes
            ["a": 1, "b": ["c": "e\u{301}", "d": 0.0]],  // canonically equal string, other bytes
            ["a": 1, "b": ["c": "é", "d": -0.0]],
            ["a": 1.0, "b": ["c": "é", "d": 0.0]],
        ]
        for variant in variants {
            #expect(!variant.isIdentical(to: state))
            let packet = emissions.packet("game_state_update", variant)
            #expect(packet == SocketIOEncodedPacket.event("game_state_update", [variant]))
            #expect(Self.bytes(packet) != Self.bytes(first))
        }
        #expect(emissions.encodes == 1 + variants.count)
        // Other events are never cached.
        _ = emissions.packet("error", state)
        _ = emissions.packet("error", state)
        #expect(emissions.encodes == 3 + variants.count)
    }
}
