import Compare
import JSONDiff
import Testing

@Suite struct RulesFileIgnoreEventsTests {
    @Test func parsesTheList() throws {
        let rules = try RulesFile.parse(yaml: "ignore_events: [error, debug_note]\n", fileName: "rules.yaml")
        #expect(rules.ignoreEvents == ["error", "debug_note"])
        #expect(try RulesFile.parse(yaml: "{}\n", fileName: "rules.yaml").ignoreEvents.isEmpty)
    }

    @Test func refusesWhatIsNotAListOfNames() {
        let cases: [(String, String)] = [
            ("ignore_events: error\n", "rules.yaml:1:16: 'ignore_events' must be a list of event names, found a string ('error')"),
            ("ignore_events: [1]\n", "rules.yaml:1:17: an entry of 'ignore_events' (an event name) must be a string, found an integer (1)"),
            ("ignore_events: ['']\n", "rules.yaml:1:17: an event name in 'ignore_events' must not be empty"),
        ]
        for (yaml, message) in cases {
            #expect(parseError(yaml)?.description == message, "\(yaml)")
        }
    }

    @Test func theDefaultRulesIgnoreTheEnginesErrorReplies() throws {
        #expect(try RulesFile.load(path: rulesPath(RulesFile.defaultPath)).ignoreEvents == ["error"])
        #expect(try RulesFile.load(path: rulesPath("fixtures/rules/examples/q1-fixed.yaml")).ignoreEvents == ["error"])
    }
}
