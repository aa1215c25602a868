import JSONValue
import PropertyBased
import Testing

@Suite struct JSONParserTests {
    @Test(arguments: [
        ("null", JSONValue.null),
        ("true", .bool(true)),
        ("false", .bool(false)),
        ("0", .int(0)),
        ("-0", .int(0)),
        ("0.0", .double(0)),
        ("-12", .int(-12)),
        ("1.5e3", .double(1500)),
        ("1E-2", .double(0.01)),
        ("100000000000000000000", .bigInt("100000000000000000000")),
        ("-100000000000000000000", .bigInt("-100000000000000000000")),
        ("9223372036854775807", .int(Int.max)),
        ("\"a\\u00e9\\n\\\"\"", .string("aé\n\"")),
        ("\"\\ud83d\\ude00\"", .string("😀")),
        ("\"\\ud83d\"", .string("\u{FFFD}")),
        (" [1, \"x\", {\"k\": null}] ", JSONValue.array([1, "x", ["k": nil]])),
        ("Infinity", .double(.infinity)),
        ("-Infinity", .double(-.infinity)),
    ])
    func parsesValidDocuments(text: String, expected: JSONValue) throws {
        #expect(try JSONValue(parsing: text) == expected)
    }

    @Test func parsesNaN() throws {
        guard case .double(let d) = try JSONValue(parsing: "NaN") else { Issue.record("not a double"); return }
        #expect(d.isNaN)
    }

    @Test(arguments: [
        ("", "unexpected_end"),
        ("[1,", "unexpected_end"),
        ("{\"a\" 1}", "unexpected_byte"),
        ("01", "trailing_data"),
        ("1.", "invalid_number"),
        ("-", "unexpected_end"),
        ("1e", "invalid_number"),
        ("\"\\x\"", "invalid_escape"),
        ("\"\\u12g4\"", "invalid_unicode"),
        ("\"a\u{01}\"", "control_character"),
        ("tru", "unexpected_end"),
        ("[1] x", "trailing_data"),
        ("{1:2}", "unexpected_byte"),
        ("\"abc", "unexpected_end"),
    ])
    func refusesMalformedDocuments(text: String, reason: String) {
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: text) }
        do {
            _ = try JSONValue(parsing: text)
        } catch {
            #expect(error.shortDescription == reason, "\(text): \(error)")
        }
    }

    @Test func refusesInvalidUTF8() {
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: [0x22, 0xFF, 0x22]) }
    }

    @Test func refusesIntegersOverPythonsDigitLimit() throws {
        let ok = String(repeating: "7", count: 4300)
        #expect(try JSONValue(parsing: ok) == .bigInt(ok))
        #expect(throws: JSONParseError.integerTooLong(at: 0)) { try JSONValue(parsing: ok + "7") }
    }

    @Test func refusesDeepNesting() throws {
        let deep = String(repeating: "[", count: 100_000)
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: deep) }
        let fine = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        _ = try JSONValue(parsing: fine)
    }

    @Test func duplicateKeysKeepTheLastValueLikePython() throws {
        #expect(try JSONValue(parsing: #"{"a":1,"a":2}"#) == ["a": 2])
    }

    @Test func parsePrefixStopsAfterTheValue() throws {
        let bytes = Array(#"12["x"]tail"#.utf8)
        let (value, end) = try bytes.withUnsafeBufferPointer { try JSONParser.parsePrefix($0, from: 2) }
        #expect(value == ["x"])
        #expect(end == 7)
    }

    @Test func errorsSayWhere() {
        #expect(JSONParseError.unexpectedByte(UInt8(ascii: "x"), at: 3).description == "JSON parse error at byte 3: unexpected character 'x'")
    }
}

@Suite struct JSONSerializationTests {
    @Test(arguments: [
        (JSONValue.null, "null"),
        (.double(0), "0.0"),
        (.double(1e20), "1e+20"),
        (.double(1.5), "1.5"),
        (.double(.nan), "NaN"),
        (.double(-.infinity), "-Infinity"),
        (.int(-3), "-3"),
        (.bigInt("100000000000000000000"), "100000000000000000000"),
        (JSONValue.object(["b": 1, "a": [true, nil]]), #"{"b":1,"a":[true,null]}"#),
        (.string("q\"\\\n\u{1}é"), #""q\"\\\n\u0001é""#),
    ])
    func serializesCompactly(value: JSONValue, text: String) {
        #expect(value.serialized() == text)
    }

    @Test func asciiOnlyEscapesLikePython() {
        #expect(JSONValue.string("é😀").serialized(.init(asciiOnly: true)) == #""\u00e9\ud83d\ude00""#)
    }

    @Test func sortedKeys() {
        let v: JSONValue = ["b": 1, "a": ["d": 1, "c": 2]]
        #expect(v.serialized(.sorted) == #"{"a":{"c":2,"d":1},"b":1}"#)
    }

    @Test func roundTripsRandomDocuments() async {
        await propertyCheck(count: 300, input: Gen.int(in: 0...Int.max)) { seed in
            var rng = SplitMix64(state: UInt64(seed))
            let value = RandomJSON.value(&rng)
            let text = value.serialized()
            let parsed = try? JSONValue(parsing: text)
            #expect(parsed == value, "\(text)")
            let ascii = value.serialized(.init(asciiOnly: true))
            #expect(ascii.utf8.allSatisfy { $0 < 0x80 })
            #expect((try? JSONValue(parsing: ascii)) == value)
        }
    }

    @Test func garbageNeverCrashes() async {
        await propertyCheck(count: 500, input: Gen.int(in: 0...Int.max)) { seed in
            var rng = SplitMix64(state: UInt64(seed))
            let pieces = ["{", "}", "[", "]", "\"", ":", ",", "1", "-", "e", "n", "\\", "u", "t", " ", "\u{1e}", "😀"]
            let text = (0..<Int.random(in: 0...30, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }.joined()
            _ = try? JSONValue(parsing: text)
        }
    }
}

@Suite struct JSONValueSemanticsTests {
    @Test func objectEqualityIgnoresKeyOrder() {
        let a: JSONValue = ["x": 1, "y": 2]
        let b: JSONValue = ["y": 2, "x": 1]
        #expect(a == b)
        #expect(a.hashValue == b.hashValue)
        #expect(a.serialized() != b.serialized())
    }

    @Test func intAndFloatAreDistinctStructurally() {
        #expect(JSONValue.int(1) != .double(1))
    }

    @Test(arguments: [
        (JSONValue.int(1), JSONValue.double(1), true),
        (.bool(true), .int(1), true),
        (.bool(true), .double(1), true),
        (.string("1"), .int(1), false),
        (.double(2), .int(2), true),
        (.double(2.5), .int(2), false),
        (.bigInt("100000000000000000000"), .double(1e20), true),
        (.bigInt("100000000000000000001"), .double(1e20), false),
        (.null, .null, true),
        (.null, .bool(false), false),
        (JSONValue.array([1, ["a": true]]), JSONValue.array([1.0, ["a": 1]]), true),
    ])
    func pythonEquality(a: JSONValue, b: JSONValue, equal: Bool) {
        #expect(a.pythonEquals(b) == equal)
        #expect(b.pythonEquals(a) == equal)
    }

    @Test(arguments: [
        (JSONValue.null, false), (.bool(false), false), (.int(0), false), (.double(0), false),
        (.string(""), false), (.array([]), false), (.object([:]), false),
        (.int(2), true), (.double(.nan), true), (.string("0"), true), (.array([nil]), true), (.bigInt("-100000000000000000000"), true),
    ])
    func pythonTruthiness(value: JSONValue, truthy: Bool) {
        #expect(value.pythonTruthy == truthy)
    }

    @Test(arguments: [
        (JSONValue.int(7), JSONValue?.some(.int(7))),
        (.string("7"), .int(7)),
        (.string(" -7 "), .int(-7)),
        (.string("1_000"), .int(1000)),
        (.double(7.9), .int(7)),
        (.double(-7.9), .int(-7)),
        (.bool(true), .int(1)),
        (.int(-5), .int(-5)),
        (.double(1e20), .bigInt("100000000000000000000")),
        (.string("100000000000000000000"), .bigInt("100000000000000000000")),
        (.string("abc"), nil),
        (.string("7.5"), nil),
        (.string(""), nil),
        (.string("1__0"), nil),
        (.array([1]), nil),
        (.object([:]), nil),
        (.null, nil),
        (.double(.nan), nil),
        (.double(.infinity), nil),
        (.string(String(repeating: "1", count: 4301)), nil),
    ])
    func pythonIntConversion(value: JSONValue, expected: JSONValue?) {
        #expect(value.pythonInt == expected)
    }

    @Test(arguments: [
        (JSONValue.int(1), "1"), (.string("1"), "1"), (.double(1), "1.0"), (.bool(true), "True"), (.null, "None"),
    ])
    func pythonStr(value: JSONValue, text: String) {
        #expect(value.pythonStr == text)
    }

    @Test func bigIntegerSums() {
        #expect(BigDecimal.add(.int(Int.max), .int(1)) == .bigInt("9223372036854775808"))
        #expect(BigDecimal.add(.bigInt("100000000000000000000"), .int(0)) == .bigInt("100000000000000000000"))
        #expect(BigDecimal.add(.bigInt("-100000000000000000000"), .bigInt("100000000000000000000")) == .int(0))
        #expect(BigDecimal.add(.bigInt("-100000000000000000000"), .int(1)) == .bigInt("-99999999999999999999"))
        #expect(BigDecimal.add(.int(Int.min), .int(-1)) == .bigInt("-9223372036854775809"))
        #expect(BigDecimal.add(.int(1), .string("1")) == nil)
    }

    @Test func bigSumsAgreeWithSmallArithmetic() async {
        await propertyCheck(input: Gen.int(in: -1_000_000_000...1_000_000_000), Gen.int(in: -1_000_000_000...1_000_000_000)) { a, b in
            #expect(BigDecimal.add(String(a), String(b)) == String(a + b))
        }
    }
}

@Suite struct JSONPointerTests {
    @Test func parsesAndPrintsEscapes() throws {
        let p = try #require(JSONPointer("/a~1b/~0c/0"))
        #expect(p.tokens == ["a/b", "~c", "0"])
        #expect(p.description == "/a~1b/~0c/0")
        #expect(JSONPointer("") == .root)
        #expect(JSONPointer("a") == nil)
        #expect(JSONPointer("/~2") == nil)
    }

    @Test func readsAndWritesValues() throws {
        var doc: JSONValue = ["player1": ["cp": 1], "list": [1, 2]]
        #expect(doc.value(at: JSONPointer("/player1/cp")!) == 1)
        #expect(doc.value(at: JSONPointer("/list/1")!) == 2)
        #expect(doc.value(at: JSONPointer("/list/2")!) == nil)
        let setCP = doc.set(5, at: JSONPointer("/player1/cp")!)
        let setNew = doc.set("x", at: JSONPointer("/player1/new")!)
        let setMissing = doc.set(1, at: JSONPointer("/missing/x")!)
        let removed = doc.set(nil, at: JSONPointer("/list/0")!)
        #expect(setCP && setNew && !setMissing && removed)
        #expect(doc == ["player1": ["cp": 5, "new": "x"], "list": [2]])
    }
}

@Suite struct StringUTF8BytesTests {
    @Test func equalBytesOnlyNotCanonicalEquivalence() {
        #expect("caf\u{E9}".hasSameUTF8(as: "caf\u{E9}"))
        #expect("caf\u{E9}" == "cafe\u{301}")
        #expect(!"caf\u{E9}".hasSameUTF8(as: "cafe\u{301}"))
        #expect(!"abc".hasSameUTF8(as: "abd"))
        #expect(!"abc".hasSameUTF8(as: "ab"))
        #expect("".hasSameUTF8(as: ""))
    }
}
