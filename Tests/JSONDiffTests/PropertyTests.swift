import JSONDiff
import JSONValue
import PropertyBased
import Testing

/// Random JSON documents over a small key alphabet, so that two documents
/// share keys; mutations of a document give nearby pairs.
enum RandomJSON {
    static let keys = ["a", "b", "player1", "player2", "x/y", "t~", "", "long_key_name_beyond_small_string"]

    static func scalar(_ rng: inout some RandomNumberGenerator) -> JSONValue {
        switch Int.random(in: 0..<9, using: &rng) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &rng))
        case 2: return .int(Int.random(in: -3...3, using: &rng))
        case 3: return .int(Int.random(in: Int.min...Int.max, using: &rng))
        case 4: return .double(Double(Int.random(in: -3...3, using: &rng)))  // often numerically equal to an int
        case 5: return .double(Double.random(in: -1e6...1e6, using: &rng))
        case 6: return .bigInt(Bool.random(using: &rng) ? "123456789012345678901234567890" : "-98765432109876543210")
        case 7: return [.double(.nan), .double(.infinity), .double(-0.0)][Int.random(in: 0..<3, using: &rng)]
        default: return .string(["", "x", "00:01:02", "été", String(repeating: "z", count: 20)][Int.random(in: 0..<5, using: &rng)])
        }
    }

    static func document(_ rng: inout some RandomNumberGenerator, depth: Int = 0) -> JSONValue {
        let roll = Int.random(in: 0..<10, using: &rng)
        if depth >= 4 || roll < 4 { return scalar(&rng) }
        if roll < 7 {
            var object = JSONObject()
            for _ in 0..<Int.random(in: 0...5, using: &rng) {
                object[keys[Int.random(in: 0..<keys.count, using: &rng)]] = document(&rng, depth: depth + 1)
            }
            return .object(object)
        }
        return .array((0..<Int.random(in: 0...4, using: &rng)).map { _ in document(&rng, depth: depth + 1) })
    }

    /// A few random edits of `value`.
    static func mutate(_ value: JSONValue, _ rng: inout some RandomNumberGenerator, depth: Int = 0) -> JSONValue {
        if Int.random(in: 0..<4, using: &rng) == 0 { return document(&rng, depth: depth) }
        switch value {
        case .object(var object):
            for key in object.keys where Bool.random(using: &rng) {
                switch Int.random(in: 0..<4, using: &rng) {
                case 0: object.removeValue(forKey: key)
                default: object[key] = mutate(object[key]!, &rng, depth: depth + 1)
                }
            }
            if Bool.random(using: &rng) { object[keys[Int.random(in: 0..<keys.count, using: &rng)]] = document(&rng, depth: depth + 1) }
            // Re-insert in another order: order must not matter.
            return .object(JSONObject(object.map { ($0.key, $0.value) }.shuffled(using: &rng)))
        case .array(var array):
            array = array.map { Bool.random(using: &rng) ? mutate($0, &rng, depth: depth + 1) : $0 }
            if Bool.random(using: &rng), !array.isEmpty { array.removeLast() }
            if Bool.random(using: &rng) { array.append(document(&rng, depth: depth + 1)) }
            return .array(array)
        default:
            return Bool.random(using: &rng) ? value : scalar(&rng)
        }
    }

    /// The same document with every object's keys in reverse order.
    static func reversedKeys(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let o): .object(JSONObject(o.map { ($0.key, reversedKeys($0.value)) }.reversed()))
        case .array(let a): .array(a.map(reversedKeys))
        default: value
        }
    }

    static let pair = Generator<(JSONValue, JSONValue), Shrink.None<(JSONValue, JSONValue)>> { rng in
        let a = document(&rng)
        return (a, mutate(a, &rng))
    }

    static let patternTexts = ["", "/**", "/a", "/*", "/player*", "/**/a", "/a/*/b", "/*/*", "/x~1y", "/t~0", "/b/**", "/0", "/*/0"]

    static let rules = Generator<ComparisonRules, Shrink.None<ComparisonRules>> { rng in
        func somePatterns(_ rng: inout any SeededRandomNumberGenerator) -> [PathPattern] {
            (0..<Int.random(in: 0...2, using: &rng)).map { _ in
                try! PathPattern(patternTexts[Int.random(in: 0..<patternTexts.count, using: &rng)])
            }
        }
        return ComparisonRules(
            ignore: Int.random(in: 0..<3, using: &rng) == 0 ? somePatterns(&rng) : [],
            tolerance: somePatterns(&rng).map { ToleranceRule($0, Double.random(in: 0...10, using: &rng)) },
            clock: somePatterns(&rng).map { ClockRule($0, seconds: Int.random(in: 0...5, using: &rng)) },
            adopt: somePatterns(&rng),
            known: somePatterns(&rng).enumerated().map {
                KnownDivergence(id: "k\($0.offset)", paths: [$0.element],
                                condition: Bool.random(using: &rng) ? nil : Condition(relation: .primaryGreaterThanShadow),
                                reason: "r")
            },
            options: Bool.random(using: &rng) ? .default : .strict
        )
    }
}

@Suite struct PropertyTests {
    @Test func aDocumentHasNoDifferenceWithItself() async {
        await propertyCheck(count: 300, input: RandomJSON.pair) { pair in
            #expect(JSONDiff.diff(pair.0, pair.0).isEmpty)
            #expect(JSONDiff.diff(pair.0, pair.0, options: .strict).isEmpty)
            #expect(JSONDiff.diff(pair.0, RandomJSON.reversedKeys(pair.0)).isEmpty)
        }
    }

    @Test func applyingTheDiffGivesTheShadow() async {
        await propertyCheck(count: 300, input: RandomJSON.pair) { pair in
            let (a, b) = pair
            var strict = a
            #expect(JSONDiff.apply(JSONDiff.diff(a, b, options: .strict), to: &strict).isEmpty)
            #expect(strict == b)
            var numeric = a
            #expect(JSONDiff.apply(JSONDiff.diff(a, b), to: &numeric).isEmpty)
            #expect(JSONDiff.areEqual(numeric, b))
            #expect(JSONDiff.diff(a, b).isEmpty == JSONDiff.areEqual(a, b))
        }
    }

    @Test func keyOrderNeverMatters() async {
        await propertyCheck(count: 300, input: RandomJSON.pair) { pair in
            let (a, b) = pair
            let expected = Set(JSONDiff.diff(a, b))
            #expect(Set(JSONDiff.diff(RandomJSON.reversedKeys(a), b)) == expected)
            #expect(Set(JSONDiff.diff(a, RandomJSON.reversedKeys(b))) == expected)
        }
    }

    @Test func swappingSidesSwapsAddedAndRemoved() async {
        await propertyCheck(count: 200, input: RandomJSON.pair) { pair in
            let forward = JSONDiff.diff(pair.0, pair.1)
            let backward = JSONDiff.diff(pair.1, pair.0)
            #expect(forward.count == backward.count)
            #expect(forward.count { $0.kind == .added } == backward.count { $0.kind == .removed })
        }
    }

    @Test func ignoringEverythingLeavesNothingUnexpected() async {
        let evaluator = RulesEvaluator(ComparisonRules(ignore: [try! PathPattern("")]))
        await propertyCheck(count: 300, input: RandomJSON.pair) { pair in
            let result = evaluator.compare(primary: pair.0, shadow: pair.1)
            #expect(result.isClean)
            #expect(result.differences.isEmpty)
            #expect(result.ignoredCount == JSONDiff.diff(pair.0, pair.1).count)
        }
    }

    @Test func compareAgreesWithClassifyingTheDiff() async {
        await propertyCheck(count: 300, input: RandomJSON.pair, RandomJSON.rules) { pair, rules in
            let evaluator = RulesEvaluator(rules)
            let diff = JSONDiff.diff(pair.0, pair.1, options: rules.options)
            let classified = evaluator.classify(diff, context: EventContext(name: "e"))
            #expect(classified.map(\.difference) == diff)
            #expect(ComparisonResult(classified) == evaluator.compare(primary: pair.0, shadow: pair.1, context: EventContext(name: "e")))
            // Each classification agrees with the pattern semantics.
            for c in classified {
                let ignored = rules.ignore.contains { $0.covers(c.difference.path) }
                #expect((c.classification == .ignored) == ignored)
            }
        }
    }

    @Test func adoptThenCompareNeverSeesAdoptedPaths() async {
        await propertyCheck(count: 300, input: RandomJSON.pair, RandomJSON.rules) { pair, rules in
            let evaluator = RulesEvaluator(rules)
            var shadow = pair.1
            let changed = evaluator.adopt(from: pair.0, into: &shadow)
            for path in changed { #expect(shadow.value(at: path) == pair.0.value(at: path)) }
            // Adopting twice changes nothing more.
            var again = shadow
            #expect(evaluator.adopt(from: pair.0, into: &again).isEmpty)
            #expect(again == shadow)
            // What still differs under an adopted path had no place in the shadow.
            for d in JSONDiff.diff(pair.0, shadow, options: .strict) {
                for n in 0...d.path.tokens.count {
                    let p = JSONPointer(tokens: Array(d.path.tokens.prefix(n)))
                    guard rules.adopt.contains(where: { $0.matches(p) }) else { continue }
                    if let value = pair.0.value(at: p) {
                        var copy = shadow
                        let change = Difference(path: p, kind: .changed, primary: value, shadow: value)
                        #expect(!JSONDiff.apply([change], to: &copy).isEmpty, "\(p) could have been adopted")
                    } else if case .array? = shadow.value(at: p.parent ?? .root) {
                        // Array elements absent from the primary are left in place.
                    } else {
                        #expect(shadow.value(at: p) == nil, "\(p) should have been removed")
                    }
                }
            }
        }
    }

    @Test func randomDocumentsNeverCrashTheStreamComparison() async {
        await propertyCheck(count: 100, input: RandomJSON.pair, RandomJSON.rules) { pair, rules in
            let evaluator = RulesEvaluator(rules)
            let names = ["game_state_update", "round_update", "timer_update"]
            let p = (0..<5).map { StreamMessage(names[$0 % 3], $0 % 2 == 0 ? pair.0 : pair.1) }
            let s = (0..<4).map { StreamMessage(names[($0 + 1) % 3], $0 % 2 == 0 ? pair.1 : nil) }
            let result = evaluator.compareStreams(primary: p, shadow: s)
            let pairedPrimary = result.differences.compactMap(\.primaryIndex)
            #expect(Set(pairedPrimary).count == pairedPrimary.count)
            #expect(result.matchedCount + result.differences.filter { $0.primaryIndex != nil }.count == p.count)
        }
    }
}
