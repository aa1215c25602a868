import ScorerState
import Testing

@Suite("Dice")
struct DiceTests {
    /// `python3 -c "import random; r=random.Random(SEED); print([r.randint(1,6) for _ in range(20)])"`
    /// (CPython 3.11.7).
    static let pythonSequences: [(seed: String, rolls: [Int])] = [
        ("0", [4, 4, 1, 3, 5, 4, 4, 3, 4, 3, 5, 2, 5, 2, 3, 2, 1, 5, 3, 5]),
        ("1", [2, 5, 1, 3, 1, 4, 4, 4, 6, 4, 2, 1, 4, 1, 4, 4, 5, 1, 6, 4]),
        ("42", [6, 1, 1, 6, 3, 2, 2, 2, 6, 1, 6, 6, 5, 1, 5, 4, 1, 1, 1, 2]),
        ("1099511627776", [1, 3, 6, 1, 4, 1, 4, 4, 6, 5, 1, 6, 6, 4, 6, 5, 3, 4, 6, 3]),  // 2**40
        ("-5", [5, 3, 6, 3, 6, 6, 6, 5, 1, 4, 2, 6, 1, 2, 1, 3, 4, 2, 4, 5]),
        ("18446744073709551619", [4, 1, 4, 1, 2, 3, 1, 3, 4, 4, 5, 2, 4, 2, 1, 5, 2, 1, 2, 4]),  // 2**64 + 3
        ("12345678901234567890123", [2, 5, 2, 6, 4, 2, 6, 3, 1, 5, 6, 2, 4, 5, 3, 6, 5, 3, 3, 5]),
    ]

    @Test("randint(1, 6) matches CPython for the seed", arguments: pythonSequences)
    func pythonParity(seed: String, rolls: [Int]) throws {
        var dice = try #require(PythonRandomDice(decimalSeed: seed))
        #expect((0..<rolls.count).map { _ in dice.roll() } == rolls)
        if let small = Int(seed) {
            var fromInt = PythonRandomDice(seed: small)
            #expect((0..<rolls.count).map { _ in fromInt.roll() } == rolls)
        }
    }

    @Test func unsignedAndSignedSeedsAgree() {
        var a = PythonRandomDice(seed: UInt64(1) << 40)
        var b = PythonRandomDice(seed: Int64(1) << 40)
        var c = PythonRandomDice(seed: -(Int64(1) << 40))  // CPython seeds with abs(n)
        let sa = (0..<50).map { _ in a.roll() }
        #expect(sa == (0..<50).map { _ in b.roll() })
        #expect(sa == (0..<50).map { _ in c.roll() })
    }

    /// `random.Random(42).getrandbits(32)` three times.
    @Test func rawOutputs() {
        var dice = PythonRandomDice(seed: 42)
        #expect([dice.nextUInt32(), dice.nextUInt32(), dice.nextUInt32()] == [2_746_317_213, 478_163_327, 107_420_369])
    }

    @Test func rollsStayInRangeAcrossTheStateRefill() {
        var dice = PythonRandomDice(seed: 7)
        var seen = Set<Int>()
        for _ in 0..<2000 {
            let r = dice.roll()
            #expect((1...6).contains(r))
            seen.insert(r)
        }
        #expect(seen == Set(1...6))
    }

    @Test("decimal seeds that are not integers are refused", arguments: ["", "-", "1.5", "abc", "1e3", " 1"])
    func badDecimalSeed(_ text: String) {
        #expect(PythonRandomDice(decimalSeed: text) == nil)
    }

    @Test func scriptedDiceReplayInOrder() {
        var dice = ScriptedDice([3, 6, 1])
        #expect([dice.roll(), dice.roll()] == [3, 6])
        #expect(dice.remaining == [1])
        #expect(dice.rolled == 2)
    }

    @Test func systemDiceRollADie() {
        var dice = SystemRandomDice()
        for _ in 0..<200 { #expect((1...6).contains(dice.roll())) }
    }
}
