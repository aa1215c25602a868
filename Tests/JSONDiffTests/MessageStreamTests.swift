import JSONDiff
import JSONValue
import Testing

@Suite struct MessageStreamTests {
    let evaluator = RulesEvaluator(scorerLikeRules)

    @Test func equalStreamsAreClean() {
        let stream = [StreamMessage("game_state_update", gameState()), StreamMessage("round_update", ["round": 2])]
        let result = evaluator.compareStreams(primary: stream, shadow: stream)
        #expect(result.isClean)
        #expect(result.matchedCount == 2)
    }

    @Test func payloadsAreComparedUnderTheRules() {
        let primary = [StreamMessage("game_state_update", gameState())]
        let drift = [StreamMessage("game_state_update", gameState(start: 1_754_000_000.5))]
        let drifted = evaluator.compareStreams(primary: primary, shadow: drift)
        #expect(drifted.isClean)
        #expect(drifted.toleratedCount == 3)

        let scoreDiffers = [StreamMessage("game_state_update", gameState(p1Primary: 13))]
        let result = evaluator.compareStreams(primary: primary, shadow: scoreDiffers)
        #expect(result.differences.count == 1)
        let difference = try! #require(result.differences.first)
        #expect(difference.kind == .payloadDiffers)
        #expect(difference.primaryIndex == 0 && difference.shadowIndex == 0)
        #expect(difference.payload?.unexpected.map(\.path.description) == ["/player1/primary_score", "/player1/total_score"])
    }

    @Test func missingAndExtraMessages() {
        let a = StreamMessage("a", 1), b = StreamMessage("b", 2), c = StreamMessage("c", 3), x = StreamMessage("x")
        let result = evaluator.compareStreams(primary: [a, b, c], shadow: [a, x, c])
        #expect(result.differences == [
            StreamDifference(kind: .missing, name: "b", primaryIndex: 1, shadowIndex: nil),
            StreamDifference(kind: .extra, name: "x", primaryIndex: nil, shadowIndex: 1),
        ])
        #expect(result.matchedCount == 2)

        let none = evaluator.compareStreams(primary: [a, b], shadow: [])
        #expect(none.differences.map(\.kind) == [.missing, .missing])
        let onlyShadow = evaluator.compareStreams(primary: [], shadow: [c])
        #expect(onlyShadow.differences.map(\.kind) == [.extra])
    }

    @Test func reorderedMessages() {
        let a = StreamMessage("a", 1), b = StreamMessage("b", 2), c = StreamMessage("c", 3)
        let result = evaluator.compareStreams(primary: [a, b, c], shadow: [b, a, c])
        #expect(result.differences.count == 1)
        #expect(result.differences.first?.kind == .reordered)
        #expect(result.matchedCount == 2)
        let reorderedAndDifferent = evaluator.compareStreams(primary: [a, b], shadow: [b, StreamMessage("a", 5)])
        #expect(reorderedAndDifferent.differences.first?.kind == .reordered)
        #expect(reorderedAndDifferent.differences.first?.payload?.unexpectedCount == 1)
    }

    @Test func payloadOnOneSideOnly() {
        let result = evaluator.compareStreams(primary: [StreamMessage("a", 1)], shadow: [StreamMessage("a")])
        #expect(result.differences.first?.kind == .payloadDiffers)
        #expect(result.differences.first?.payload?.unexpected.first?.kind == .removed)
    }

    @Test func longStreamsUseTheGreedyAlignment() {
        let names = (0..<300).map { "e\($0 % 7)" }
        let primary = names.enumerated().map { StreamMessage($0.element, .int($0.offset)) }
        var shadow = primary
        shadow.remove(at: 150)
        shadow.insert(StreamMessage("unexpected"), at: 40)
        let small = evaluator.compareStreams(primary: primary, shadow: shadow, maxTableCells: 100)
        let full = evaluator.compareStreams(primary: primary, shadow: shadow)
        for result in [small, full] {
            #expect(result.differences.filter { $0.kind == .extra }.map(\.name) == ["unexpected"])
            #expect(result.differences.filter { $0.kind == .missing }.map(\.primaryIndex) == [150])
            #expect(result.differences.count == 2)
        }
    }

    /// With a memo, sessions that received the same payloads (the same values, as a broadcast
    /// gives them) share one comparison and one adoption per pair; the results are those of
    /// the work done afresh, and equal contents built apart are simply worked out again.
    @Test func aMemoSharesTheWorkOfTheSamePayloadsAndNothingElse() {
        let primaryState = gameState(p1Primary: 12, p1Roll: 5)
        let shadowState = gameState(start: 1_754_000_000.5, p1Primary: 13, p1Roll: 2)  // drift, a score, dice
        let primary = [StreamMessage("game_state_update", primaryState), StreamMessage("round_update", ["round": 2])]
        let shadow = [StreamMessage("game_state_update", shadowState), StreamMessage("round_update", ["round": 2])]
        let fresh = evaluator.compareStreams(primary: primary, shadow: shadow)
        #expect(!fresh.isClean)

        let memo = PayloadMemo()
        let first = evaluator.compareStreams(primary: primary, shadow: shadow, memo: memo)
        #expect(memo.hits == 0)
        let second = evaluator.compareStreams(primary: primary, shadow: shadow, memo: memo)
        #expect(memo.hits == 2)
        #expect(first == fresh && second == fresh)

        // The same contents, built apart: no hit, the same result.
        let rebuilt = [StreamMessage("game_state_update", gameState(start: 1_754_000_000.5, p1Primary: 13, p1Roll: 2)),
                       StreamMessage("round_update", ["round": 2])]
        #expect(evaluator.compareStreams(primary: primary, shadow: rebuilt, memo: memo) == fresh)
        // Other contents never hit.
        let other = [StreamMessage("game_state_update", gameState(p1Primary: 14)), StreamMessage("round_update", ["round": 3])]
        #expect(evaluator.compareStreams(primary: primary, shadow: other, memo: memo)
            == evaluator.compareStreams(primary: primary, shadow: other))

        // Adoption: the same as adopting afresh, worked out once for the same pair.
        var expected = shadowState
        evaluator.adopt(from: primaryState, into: &expected)
        let adoptions = PayloadMemo()
        #expect(adoptions.adopting(from: primaryState, into: shadowState, evaluator: evaluator) == expected)
        #expect(adoptions.adopting(from: primaryState, into: shadowState, evaluator: evaluator) == expected)
        #expect(adoptions.hits == 1)
        #expect(expected.value(at: JSONPointer("/player1/deployment_roll")!) == 5)
    }
}
