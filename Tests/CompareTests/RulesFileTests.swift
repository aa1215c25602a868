import Compare
import Foundation
import JSONDiff
import JSONValue
import Testing

/// The repository root, from this file's path (Tests/CompareTests/RulesFileTests.swift).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

func rulesPath(_ relative: String) -> String { repositoryRoot.appendingPathComponent(relative).path }

func parseError(_ yaml: String) -> RulesFileError? {
    do {
        _ = try RulesFile.parse(yaml: yaml, fileName: "rules.yaml")
        return nil
    } catch {
        return error
    }
}

@Suite struct RulesFileTests {
    @Test func parsesEverySection() throws {
        let rules = try RulesFile.parse(yaml: """
            version: 1
            numeric_equality: strict
            ignore:
              - /debug
              - /**/nonce
            tolerance:
              /t: 1.5
              /player*/x: 2
            clock:
              /game_timer/elapsed_display: 3
            adopt: [/player*/deployment_roll, /winner]
            known:
              - id: q1-fixed
                paths: [/player*/primary_score, /player*/secondary_score]
                when:
                  event: update_score
                  payload: {score_type: secondary, player_id: 1, big: 123456789012345678901234567890, f: 1.5, n: null, b: true}
                  relation: primary_gt_shadow
                  primary: [1, "two", {three: 3}]
                  shadow: ~
                reason: because
              - id: other
                path: /status_message
                reason: >-
                  folded
                  reason
            readiness:
              min_consecutive_clean: 7
              require_full_game: false
            """, fileName: "rules.yaml")
        #expect(rules.options == .strict)
        #expect(rules.ignore.map(\.text) == ["/debug", "/**/nonce"])
        #expect(rules.tolerance == [ToleranceRule(try PathPattern("/t"), 1.5), ToleranceRule(try PathPattern("/player*/x"), 2)])
        #expect(rules.clock == [ClockRule(try PathPattern("/game_timer/elapsed_display"), seconds: 3)])
        #expect(rules.adopt.map(\.text) == ["/player*/deployment_roll", "/winner"])
        #expect(rules.known.count == 2)
        let q1 = rules.known[0]
        #expect(q1.id == "q1-fixed")
        #expect(q1.paths.map(\.text) == ["/player*/primary_score", "/player*/secondary_score"])
        #expect(q1.reason == "because")
        #expect(q1.condition == Condition(
            event: "update_score",
            payload: ["score_type": "secondary", "player_id": 1, "big": .bigInt("123456789012345678901234567890"), "f": 1.5,
                      "n": nil, "b": true],
            primary: [1, "two", ["three": 3]],
            shadow: nil as JSONValue,
            relation: .primaryGreaterThanShadow))
        #expect(rules.known[1] == KnownDivergence(id: "other", paths: [try PathPattern("/status_message")], reason: "folded reason"))
        #expect(rules.readiness == ReadinessSettings(minConsecutiveClean: 7, requireFullGame: false))
    }

    @Test func minimalFilesUseDefaults() throws {
        let rules = try RulesFile.parse(yaml: "{}", fileName: "r.yaml")
        #expect(rules == ComparisonRules())
        #expect(rules.options == .default)
        #expect(rules.readiness == ReadinessSettings(minConsecutiveClean: 50, requireFullGame: true))
    }

    @Test(arguments: [
        // (yaml, expected description)
        ("tolerence: {}\n", "rules.yaml:1:1: unknown key 'tolerence' (expected one of: version, numeric_equality, ignore, ignore_events, tolerance, clock, adopt, known, readiness)"),
        ("ignore: []\n\nknown:\n  - id: a\n    path: /x\n    reasn: typo\n",
         "rules.yaml:6:5: unknown key 'reasn' (expected one of: id, path, paths, when, reason)"),
        ("known:\n  - id: a\n    path: /x\n    reason: r\n    when: {event: e, payload_: {}}\n",
         "rules.yaml:5:22: unknown key 'payload_' (expected one of: event, payload, primary, shadow, relation)"),
        ("readiness:\n  min_clean: 3\n", "rules.yaml:2:3: unknown key 'min_clean' (expected one of: min_consecutive_clean, require_full_game)"),
        ("- a\n- b\n", "rules.yaml:1:1: the rules file must be a mapping of sections, found a list"),
        ("", "rules.yaml:1:1: the rules file is empty (expected a mapping; write '{}' for no rules)"),
        ("# only a comment\n", "rules.yaml:1:1: the rules file is empty (expected a mapping; write '{}' for no rules)"),
        ("ignore: /x\n", "rules.yaml:1:9: 'ignore' must be a list of path patterns, found a string ('/x')"),
        ("ignore:\n", "rules.yaml:1:8: 'ignore' must be a list of path patterns, found null"),
        ("ignore:\n  - 5\n", "rules.yaml:2:5: an entry of 'ignore' (a path pattern) must be a string, found an integer (5)"),
        ("ignore:\n  - player1/x\n", "rules.yaml:2:5: invalid path pattern 'player1/x': a path pattern is empty or starts with '/'"),
        ("adopt:\n  - /ok\n  - /bad~2\n", "rules.yaml:3:5: invalid path pattern '/bad~2': '~' must be followed by '0' or '1'"),
        ("adopt: ['/a**']\n", "rules.yaml:1:9: invalid path pattern '/a**': '**' must be a whole token (between slashes)"),
        ("tolerance:\n  /t: -1\n", "rules.yaml:2:7: the tolerance of '/t' must be a finite number >= 0, found -1"),
        ("tolerance:\n  /t: .nan\n", "rules.yaml:2:7: the tolerance of '/t' must be a finite number >= 0, found .nan"),
        ("tolerance:\n  /t: '2'\n", "rules.yaml:2:7: the tolerance of '/t' must be a number, found a string ('2')"),
        ("tolerance:\n  /t: [2]\n", "rules.yaml:2:7: the tolerance of '/t' must be a number, found a list"),
        ("tolerance: [/t]\n", "rules.yaml:1:12: 'tolerance' must be a mapping of path pattern to number, found a list"),
        ("tolerance:\n  t: 1\n", "rules.yaml:2:3: invalid path pattern 't': a path pattern is empty or starts with '/'"),
        ("clock:\n  /d: 1.5\n", "rules.yaml:2:7: the clock tolerance of '/d' must be an integer, found a number (1.5)"),
        ("clock:\n  /d: -2\n", "rules.yaml:2:7: the clock tolerance of '/d' must be whole seconds >= 0, found -2"),
        ("known: {}\n", "rules.yaml:1:8: 'known' must be a list of known divergences, found a mapping"),
        ("known:\n  - /x\n", "rules.yaml:2:5: a known divergence must be a mapping with 'id', 'path' and 'reason', found a string ('/x')"),
        ("known:\n  - path: /x\n    reason: r\n", "rules.yaml:2:5: known divergence is missing 'id'"),
        ("known:\n  - id: a\n    reason: r\n", "rules.yaml:2:5: known divergence 'a' is missing 'path'"),
        ("known:\n  - id: a\n    path: /x\n", "rules.yaml:2:5: known divergence 'a' is missing 'reason'"),
        ("known:\n  - id: a\n    path: /x\n    reason: '  '\n", "rules.yaml:4:13: 'reason' of known divergence 'a' must not be empty"),
        ("known:\n  - id: a\n    path: /x\n    reason: 3\n", "rules.yaml:4:13: 'reason' must be a string, found an integer (3)"),
        ("known:\n  - id: a\n    path: /x\n    paths: [/y]\n    reason: r\n", "rules.yaml:4:12: use either 'path' or 'paths', not both"),
        ("known:\n  - id: a\n    paths: []\n    reason: r\n", "rules.yaml:3:12: 'paths' of known divergence 'a' must not be empty"),
        ("known:\n  - id: 'bad id'\n    path: /x\n    reason: r\n",
         "rules.yaml:2:9: 'id' must be letters, digits, '-', '_' or '.', starting with a letter or digit, found 'bad id'"),
        ("known:\n  - id: a\n    path: /x\n    reason: r\n  - id: b\n    path: /y\n    reason: r\n  - id: a\n    path: /z\n    reason: r\n",
         "rules.yaml:8:9: duplicate known divergence id 'a' (first at line 2)"),
        ("known:\n  - id: a\n    path: /x\n    reason: r\n    when: {relation: bigger}\n",
         "rules.yaml:5:22: 'relation' must be one of: primary_gt_shadow, primary_lt_shadow, only_in_primary, only_in_shadow; found 'bigger'"),
        ("known:\n  - id: a\n    path: /x\n    reason: r\n    when: {event: 5}\n", "rules.yaml:5:19: 'event' must be a string, found an integer (5)"),
        ("known:\n  - id: a\n    path: /x\n    reason: r\n    when: [event]\n",
         "rules.yaml:5:11: 'when' of known divergence 'a' must be a mapping, found a list"),
        ("known:\n  - id: a\n    path: /x\n    reason: r\n    when: {payload: {1: x}}\n",
         "rules.yaml:5:22: a 'payload' key must be a string, found an integer (1)"),
        ("readiness:\n  min_consecutive_clean: 0\n", "rules.yaml:2:26: 'min_consecutive_clean' must be at least 1, found 0"),
        ("readiness:\n  min_consecutive_clean: ten\n", "rules.yaml:2:26: 'min_consecutive_clean' must be an integer, found a string ('ten')"),
        ("readiness:\n  require_full_game: 'yes'\n", "rules.yaml:2:22: 'require_full_game' must be true or false, found a string ('yes')"),
        ("version: 2\n", "rules.yaml:1:10: 'version' must be 1"),
        ("numeric_equality: loose\n", "rules.yaml:1:19: 'numeric_equality' must be 'numeric' or 'strict', found 'loose'"),
        ("5: x\n", "rules.yaml:1:1: a key must be a string, found an integer (5)"),
        ("base: &b {}\n<<: *b\n", "rules.yaml:1:1: unknown key 'base' (expected one of: version, numeric_equality, ignore, ignore_events, tolerance, clock, adopt, known, readiness)"),
        ("<<: {ignore: []}\n", "rules.yaml:1:1: a key must be a string, found a merge key (<<)"),
        ("ignore: []\nignore: []\n", "rules.yaml:1:1: duplicate key 'ignore'"),
        ("ignore: [\n", "rules.yaml:2:1: YAML syntax error: did not find expected node content (while parsing a flow node at line 2, column 1)"),
        ("ignore:\n  - /a\n - /b\n", "rules.yaml:3:2: YAML syntax error: did not find expected key (while parsing a block mapping at line 1, column 1)"),
        ("a: *x\n", "rules.yaml:1:4: YAML syntax error: found undefined alias"),
        ("---\n{}\n---\n{}\n", "rules.yaml:3:1: YAML syntax error: but found another document (expected a single document in the stream at line 1, column 1)"),
    ] as [(String, String)])
    func refusesMalformedFiles(_ yaml: String, _ expected: String) {
        let error = parseError(yaml)
        #expect(error?.description == expected)
    }

    @Test func aliasesAreResolved() throws {
        let rules = try RulesFile.parse(yaml: """
            readiness: &r {min_consecutive_clean: 3}
            known:
              - id: a
                path: /x
                reason: r
                when: {primary: *r}
            """, fileName: "rules.yaml")
        #expect(rules.readiness.minConsecutiveClean == 3)
        #expect(rules.known.first?.condition?.primary == ["min_consecutive_clean": 3])
    }

    @Test func errorsAreEquatableAndLabelled() {
        let a = parseError("tolerence: {}\n")
        #expect(a == parseError("tolerence: {}\n"))
        #expect(a != parseError("tolerance: []\n"))
        #expect(a?.shortDescription == "unknown_key")
        #expect(a?.file == "rules.yaml")
        #expect(a?.line == 1 && a?.column == 1)
        #expect(a?.reasonText.hasPrefix("unknown key 'tolerence'") == true)
    }

    @Test func unreadableFile() {
        do {
            _ = try RulesFile.load(path: "/nonexistent/rules.yaml")
            Issue.record("loaded a file that does not exist")
        } catch {
            #expect(error.line == 0)
            #expect(error.shortDescription == "unreadable")
            #expect(error.description.hasPrefix("/nonexistent/rules.yaml: cannot read the rules file: "))
        }
    }

    @Test func loadNamesTheFileInErrors() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rules-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("bad.yaml")
        try "ignore: []\nclock:\n  /d: x\n".write(to: file, atomically: true, encoding: .utf8)
        #expect(throws: RulesFileError.self) { try RulesFile.load(path: file.path) }
        do {
            _ = try RulesFile.load(path: file.path)
        } catch {
            #expect(error.description == "\(file.path):3:7: the clock tolerance of '/d' must be an integer, found a string ('x')")
        }
    }
}
