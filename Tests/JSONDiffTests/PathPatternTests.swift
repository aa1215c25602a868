import JSONDiff
import JSONValue
import Testing

func pattern(_ text: String) -> PathPattern {
    do { return try PathPattern(text) } catch { fatalError("bad test pattern: \(error)") }
}

@Suite struct PathPatternTests {
    @Test(arguments: [
        ("/player1/cp", "/player1/cp", true),
        ("/player1/cp", "/player2/cp", false),
        ("/player1/cp", "/player1", false),
        ("/*/cp", "/player2/cp", true),
        ("/*/cp", "/cp", false),
        ("/*/cp", "/a/b/cp", false),
        ("/player*/cp", "/player2/cp", true),
        ("/player*/cp", "/player/cp", true),
        ("/player*/cp", "/players2/cp", true),
        ("/player*/cp", "/xplayer2/cp", false),
        ("/*_seconds", "/elapsed_seconds", true),
        ("/*_seconds", "/elapsed_second", false),
        ("/a*b*c", "/abc", true),
        ("/a*b*c", "/aXbYc", true),
        ("/a*b*c", "/acb", false),
        ("/ab*ba", "/aba", false),
        ("/ab*ba", "/abba", true),
        ("/**/start_time", "/start_time", true),
        ("/**/start_time", "/game_timer/start_time", true),
        ("/**/start_time", "/a/b/c/start_time", true),
        ("/**/start_time", "/a/start_time/x", false),
        ("/game_timer/**", "/game_timer", true),
        ("/game_timer/**", "/game_timer/a/b", true),
        ("/**", "", true),
        ("/**", "/anything/at/all", true),
        ("", "", true),
        ("", "/a", false),
        ("/a~1b/c~0d", "/a~1b/c~0d", true),
        ("/a~1*", "/a~1b", true),
        ("/a~1*", "/ab", false),
        ("/", "/", true),
        ("/", "", false),
        ("/*/0", "/list/0", true),
        ("/**/**/x", "/x", true),
        ("/é*", "/été", true),
    ])
    func matches(_ patternText: String, _ path: String, _ expected: Bool) {
        #expect(pattern(patternText).matches(pointer(path)) == expected)
    }

    @Test func coversDescendants() {
        let p = pattern("/player*")
        #expect(p.covers(pointer("/player1")))
        #expect(p.covers(pointer("/player1/name")))
        #expect(!p.covers(pointer("/current_round")))
        #expect(!p.covers(.root))
        #expect(pattern("").covers(pointer("/a/b")))
        #expect(pattern("/**/x").covers(pointer("/a/x/y")))
    }

    @Test func segmentsAreCompiled() {
        #expect(pattern("/a/*/b*/**/c").segments.count == 5)
        #expect(pattern("/a/**/**/c").segments.count == 3)
        #expect(pattern("/a/b").isLiteral)
        #expect(!pattern("/a/*").isLiteral)
        #expect(PathPattern(literal: pointer("/x~1y")).matches(pointer("/x~1y")))
        #expect(PathPattern(literal: pointer("/x*")).segments == [.literal("x*")])
    }

    @Test(arguments: [
        ("player1", "invalid path pattern 'player1': a path pattern is empty or starts with '/'"),
        ("/a~2", "invalid path pattern '/a~2': '~' must be followed by '0' or '1'"),
        ("/a~", "invalid path pattern '/a~': '~' must be followed by '0' or '1'"),
        ("/x~*", "invalid path pattern '/x~*': '~' must be followed by '0' or '1'"),
        ("/a**", "invalid path pattern '/a**': '**' must be a whole token (between slashes)"),
        ("/**b/c", "invalid path pattern '/**b/c': '**' must be a whole token (between slashes)"),
    ])
    func refuses(_ text: String, _ message: String) {
        #expect(throws: PathPatternError.self) { try PathPattern(text) }
        do {
            _ = try PathPattern(text)
        } catch {
            #expect(error.description == message)
            #expect(error.pattern == text)
        }
    }
}
