import JSONDiff
import JSONValue
import Testing

func json(_ text: String) -> JSONValue {
    do { return try JSONValue(parsing: text) } catch { fatalError("bad test JSON: \(error)") }
}

func pointer(_ text: String) -> JSONPointer { JSONPointer(text)! }

@Suite struct JSONDiffTests {
    @Test func equalDocumentsHaveNoDifference() {
        let a = json(#"{"a":1,"b":[1,2,{"c":null}],"d":{"e":"x"}}"#)
        #expect(JSONDiff.diff(a, a).isEmpty)
        #expect(JSONDiff.areEqual(a, a))
    }

    @Test func objectKeyOrderDoesNotMatter() {
        let a = json(#"{"a":1,"b":{"x":true,"y":false}}"#)
        let b = json(#"{"b":{"y":false,"x":true},"a":1}"#)
        #expect(JSONDiff.diff(a, b).isEmpty)
    }

    @Test func changedAddedRemovedAndTypeChanged() {
        let a = json(#"{"same":1,"changed":"x","removed":[1],"retyped":{"k":1},"n":null}"#)
        let b = json(#"{"same":1,"changed":"y","added":true,"retyped":"k","n":0}"#)
        #expect(JSONDiff.diff(a, b) == [
            Difference(path: pointer("/changed"), kind: .changed, primary: "x", shadow: "y"),
            Difference(path: pointer("/removed"), kind: .removed, primary: [1], shadow: nil),
            Difference(path: pointer("/retyped"), kind: .typeChanged, primary: ["k": 1], shadow: "k"),
            Difference(path: pointer("/n"), kind: .typeChanged, primary: nil as JSONValue, shadow: 0),
            Difference(path: pointer("/added"), kind: .added, primary: nil, shadow: true),
        ])
    }

    @Test func nestedPathsAreEscaped() {
        let a = json(#"{"a/b":{"c~d":[0,{"e":1}]}}"#)
        let b = json(#"{"a/b":{"c~d":[0,{"e":2}]}}"#)
        let diffs = JSONDiff.diff(a, b)
        #expect(diffs.map(\.path.description) == ["/a~1b/c~0d/1/e"])
        #expect(diffs.first?.path.tokens == ["a/b", "c~d", "1", "e"])
    }

    @Test func arraysCompareByIndex() {
        let short = json("[1,2]")
        let long = json("[1,3,4,5]")
        #expect(JSONDiff.diff(short, long) == [
            Difference(path: pointer("/1"), kind: .changed, primary: 2, shadow: 3),
            Difference(path: pointer("/2"), kind: .added, primary: nil, shadow: 4),
            Difference(path: pointer("/3"), kind: .added, primary: nil, shadow: 5),
        ])
        #expect(JSONDiff.diff(long, short).map(\.kind) == [.changed, .removed, .removed])
        // An insertion at the front shifts everything: arrays are not aligned.
        #expect(JSONDiff.diff(json("[1,2]"), json("[0,1,2]")).count == 3)
    }

    @Test func rootScalarsDiffAtTheRoot() {
        let d = JSONDiff.diff("a", 1)
        #expect(d == [Difference(path: .root, kind: .typeChanged, primary: "a", shadow: 1)])
        #expect(d.first?.description == #"(root): type_changed "a" -> 1"#)
    }

    @Test(arguments: [
        ("0", "0.0", true),
        ("3", "3.0", true),
        ("-7", "-7.0", true),
        ("1", "1.5", false),
        ("100000000000000000000", "1e20", true),
        ("100000000000000000001", "1e20", false),
        ("9007199254740993", "9007199254740992.0", false),
        ("NaN", "NaN", true),
        ("1.5", "1.5", true),
    ])
    func numericEqualityByDefault(_ a: String, _ b: String, _ equal: Bool) {
        let diffs = JSONDiff.diff(json(a), json(b))
        #expect(diffs.isEmpty == equal)
        if !equal { #expect(diffs.map(\.kind) == [.changed]) }
    }

    @Test func strictNumbersSeparateIntsAndFloats() {
        #expect(JSONDiff.diff(json("0"), json("0.0"), options: .strict).map(\.kind) == [.typeChanged])
        #expect(JSONDiff.diff(json("1"), json("2.5"), options: .strict).map(\.kind) == [.typeChanged])
        #expect(JSONDiff.diff(json("1"), json("1"), options: .strict).isEmpty)
        #expect(!JSONDiff.areEqual(json("[0]"), json("[0.0]"), options: .strict))
    }

    @Test func booleansAreNotNumbers() {
        #expect(JSONDiff.diff(true, 1).map(\.kind) == [.typeChanged])
        #expect(JSONDiff.diff(false, 0.0).map(\.kind) == [.typeChanged])
        #expect(JSONDiff.diff(nil, false).map(\.kind) == [.typeChanged])
        #expect(JSONDiff.diff(true, false).map(\.kind) == [.changed])
    }

    @Test func applyTurnsPrimaryIntoShadow() {
        let a = json(#"{"a":[1,2,3],"b":{"c":1},"d":"x"}"#)
        let b = json(#"{"a":[1],"b":{"c":2,"e":[true]},"f":null}"#)
        var doc = a
        let failed = JSONDiff.apply(JSONDiff.diff(a, b, options: .strict), to: &doc)
        #expect(failed.isEmpty)
        #expect(doc == b)

        var grown = b
        #expect(JSONDiff.apply(JSONDiff.diff(b, a, options: .strict), to: &grown).isEmpty)
        #expect(grown == a)
    }

    @Test func applyReportsWhatCannotBeApplied() {
        var doc = json(#"{"a":1}"#)
        let failed = JSONDiff.apply([Difference(path: pointer("/x/y"), kind: .added, primary: nil, shadow: 1)], to: &doc)
        #expect(failed == [pointer("/x/y")])
        #expect(doc == json(#"{"a":1}"#))
    }
}

@Suite struct ClockDurationTests {
    @Test(arguments: [
        ("00:00:00", 0), ("00:10:12", 612), ("01:02:03", 3723), ("100:00:00", 360_000), ("-1:59:59", -1),
        ("1:00:00", 3600),
    ] as [(String, Int)])
    func parses(_ text: String, _ seconds: Int) {
        #expect(ClockDuration.seconds(text) == seconds)
    }

    @Test(arguments: ["", "00:00", "00:60:00", "00:00:60", "0a:00:00", "00:0:00", "00-00-00", ":00:00", "-:00:00", " 00:00:00"])
    func refuses(_ text: String) {
        #expect(ClockDuration.seconds(text) == nil)
    }
}
